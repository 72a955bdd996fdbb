-- Prompting and cancelling: agent/session/prompt with a workDoneToken, agent/session/cancel.
local client = require("agent_ls.client")
local config = require("agent_ls.config")
local state = require("agent_ls.state")
local util = require("agent_ls.util")

local M = {}

local seq = 0

--- cb(SessionInfo | nil): the client's active session; with none, the most recent one is
--- resumed (or a new one created when resume_recent is false). nil after an error (reported).
function M.ensure_session(c, cb)
  local s = state.get(c.id)
  if s.active then
    cb(s.active)
    return
  end
  local sessions = require("agent_ls.sessions")
  local method = config.options.resume_recent and "agent/session/resumeRecent" or "agent/session/new"
  client.request(c, method, vim.empty_dict(), function(err, res)
    if err or not res then
      util.error(method .. ": " .. util.err_message(err or "no result"))
      cb(nil)
      return
    end
    if method == "agent/session/new" then
      sessions.activate(c.id, res, {}, false)
      cb(res)
    else
      sessions.activate(c.id, res.session, res.items, res.hasMore)
      cb(res.session)
    end
  end)
end

--- Context for a range of a buffer: {uri, range} with LSP positions (end exclusive).
--- `linewise` ranges cover whole lines; otherwise the '< and '> marks give the columns.
function M.range_context(bufnr, line1, line2, linewise, encoding)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  encoding = encoding or "utf-16"
  local uri = vim.uri_from_bufnr(bufnr)
  local start_pos, end_pos
  if linewise then
    local last = vim.api.nvim_buf_get_lines(bufnr, line2 - 1, line2, false)[1] or ""
    start_pos = { line = line1 - 1, character = 0 }
    end_pos = {
      line = line2 - 1,
      character = vim.lsp.util.character_offset(bufnr, line2 - 1, #last, encoding),
    }
  else
    local s = vim.api.nvim_buf_get_mark(bufnr, "<")
    local e = vim.api.nvim_buf_get_mark(bufnr, ">")
    local eline = vim.api.nvim_buf_get_lines(bufnr, e[1] - 1, e[1], false)[1] or ""
    -- '> is the byte index of the last selected character; take that whole character.
    local ecol = math.min(#eline, e[2])
    if ecol < #eline then
      local char = vim.fn.strpart(eline, ecol, 1, true)
      ecol = ecol + math.max(#char, 1)
    end
    start_pos = {
      line = s[1] - 1,
      character = vim.lsp.util.character_offset(bufnr, s[1] - 1, s[2], encoding),
    }
    end_pos = {
      line = e[1] - 1,
      character = vim.lsp.util.character_offset(bufnr, e[1] - 1, ecol, encoding),
    }
  end
  return { uri = uri, range = { start = start_pos, ["end"] = end_pos } }
end

local function queued_texts(s)
  return vim.tbl_map(function(q)
    return q.text
  end, s.queue or {})
end

--- A prompt typed while a turn runs waits for the turn to end (never thrown away).
local function queue(client_id, s, text, opts)
  s.queue = s.queue or {}
  s.queue[#s.queue + 1] = { text = text, opts = opts }
  require("agent_ls.chat").show_queue(client_id, queued_texts(s))
  util.notify("a turn is running: the prompt is queued and sent when it ends (:AgentCancel stops the turn)")
  state.emit("Queued", { client_id = client_id, text = text, count = #s.queue })
end

--- The turn ended: a normal end sends the next queued prompt; a cancelled or failed turn puts
--- the queued prompts back in the chat's prompt area, for the user to send or change.
local function drain(client_id, s, ended_well)
  local q = s.queue or {}
  if #q == 0 then
    return
  end
  local chat = require("agent_ls.chat")
  if ended_well then
    local next_one = table.remove(q, 1)
    chat.show_queue(client_id, queued_texts(s))
    vim.schedule(function()
      M.prompt(next_one.text, next_one.opts)
    end)
    return
  end
  s.queue = {}
  chat.show_queue(client_id, {})
  chat.ensure(client_id)
  chat.restore_input(client_id, table.concat(queued_texts({ queue = q }), "\n\n"))
  util.notify("the turn did not finish: the queued prompt is back in the chat's prompt area")
end

--- Starts a turn in session `info`: agent/session/prompt, or agent/session/retry (`method`),
--- with a workDoneToken; the chat streams it and `User AgentLsTurnEnd` fires when it ends.
local function start(c, s, info, method, params, opts)
  local chat = require("agent_ls.chat")
  chat.ensure(c.id)
  seq = seq + 1
  local token = string.format("agent_ls-%d-%d", vim.fn.getpid(), seq)
  local run = { session_id = info.sessionId, token = token, started = vim.uv.now() }
  s.running = run
  params.sessionId = info.sessionId
  params.workDoneToken = token
  require("agent_ls.edits").flush(c.id)
  -- A turn after one that failed starts where the failed prompt did (the server keeps the failed
  -- turn as a branch), as do edit and resend and retry: with the turn's first update the chat
  -- drops that message and what followed (a refused request leaves the chat as it is).
  local replaced = opts.replace_entry_id or (s.failed and s.failed.session_id == info.sessionId and s.failed.entry_id)
  s.failed = nil
  if replaced then
    chat.truncate_on_update(c.id, info.sessionId, replaced)
  end
  if opts.retry and chat.input(c.id) == opts.retry then
    chat.set_input(c.id, "") -- the failed prompt put back there is being sent again
  end
  run.request_id = client.request(c, method, params, function(err, result)
    if s.running == run then
      s.running = nil
    end
    if result and util.nn(result.checkpointId) then
      s.last_checkpoint = result.checkpointId
    end
    chat.turn_end(c.id, info.sessionId, result, err)
    if err then
      if util.err_kind(err) == "session_not_found" and s.active and s.active.sessionId == info.sessionId then
        -- Deleted elsewhere: the next prompt resumes or creates another session.
        s.active = nil
      end
      util.error(method:match("[^/]+$") .. ": " .. util.err_message(err))
    elseif result and result.stopReason == "error" then
      -- The failed prompt goes back to the prompt area (unless something is typed there or
      -- queued): to be changed and sent, or sent again as it is with :AgentRetry.
      local entry = chat.last_user_entry(c.id)
      local text = entry and chat.user_text(c.id, entry)
      s.failed = entry and { session_id = info.sessionId, entry_id = entry, text = text } or nil
      if text and chat.input(c.id) == "" and #(s.queue or {}) == 0 then
        chat.set_input(c.id, text)
      end
      util.error(
        "the turn ended with an error: "
          .. util.err_message(util.nn(result.error) or "see the chat")
          .. " (:AgentRetry sends it again; the prompt is back in the chat to change)"
      )
    end
    state.emit("TurnEnd", { client_id = c.id, session_id = info.sessionId, result = result, err = err })
    pcall(vim.cmd.redrawstatus, { bang = true })
    local reason = result and util.nn(result.stopReason)
    drain(c.id, s, not err and (reason == "end_turn" or reason == "max_tokens"))
  end)
  if not run.request_id and s.running == run then
    s.running = nil
    drain(c.id, s, false)
    return
  end
  state.emit("TurnStart", { client_id = c.id, session_id = info.sessionId, token = token })
  require("agent_ls.status").tick()
  if opts.on_start then
    opts.on_start(c.id)
  end
end

--- Sends a prompt to the active session. opts.context: list of {uri, range?};
--- opts.replace_entry_id: edit and resend (the prompt replaces that earlier user message).
function M.prompt(text, opts)
  opts = opts or {}
  if type(text) ~= "string" or vim.trim(text) == "" then
    util.warn("empty prompt")
    return
  end
  client.with_client(function(c)
    local s = state.get(c.id)
    if s.running or s.starting then
      queue(c.id, s, text, opts)
      return
    end
    s.starting = true
    M.ensure_session(c, function(info)
      s.starting = nil
      if not info then
        drain(c.id, s, false)
        return
      end
      local params = { prompt = text }
      if opts.context and #opts.context > 0 then
        params.context = opts.context
      end
      if opts.replace_entry_id then
        params.replaceEntryId = opts.replace_entry_id
      end
      start(c, s, info, "agent/session/prompt", params, opts)
    end)
  end)
end

--- :AgentRetry — sends the last turn's prompt again when that turn failed or was cancelled
--- (agent/session/retry; the failed turn stays in the session as a branch).
function M.retry(opts)
  opts = opts or {}
  client.with_client(function(c)
    local s = state.get(c.id)
    if s.running or s.starting then
      util.warn("a turn is running: :AgentCancel it first, or wait for it to end")
      return
    end
    if not s.active then
      util.warn("no active session (:AgentSessions)")
      return
    end
    opts.replace_entry_id = require("agent_ls.chat").last_user_entry(c.id) or false
    opts.retry = s.failed and s.failed.text or false
    start(c, s, s.active, "agent/session/retry", {}, opts)
  end)
end

--- Cancels the running turn of the current client (it ends with stopReason "cancelled").
function M.cancel()
  local c = client.current()
  local s = c and state.clients[c.id]
  if not (s and s.running) then
    util.notify("no turn is running")
    return false
  end
  client.notify(c, "agent/session/cancel", { sessionId = s.running.session_id })
  s.running.cancelling = true
  return true
end

return M
