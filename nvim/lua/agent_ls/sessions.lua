-- Sessions: new, list (vim.ui.select or a list buffer), switch, rename, fork, delete.
local client = require("agent_ls.client")
local config = require("agent_ls.config")
local state = require("agent_ls.state")
local util = require("agent_ls.util")

local M = {}

local ns = vim.api.nvim_create_namespace("agent_ls.sessions")
M.lists = {} -- client id → {buf, sessions}

--- "#a #b" for a session's tags ("" without any).
function M.tags_text(info)
  return table.concat(
    vim.tbl_map(function(t)
      return "#" .. t
    end, info.tags or {}),
    " "
  )
end

--- One line for a session: name (or "unnamed") and its tags │ first message │ age; a fork is
--- marked "⑂".
function M.format(info, active_id)
  info = util.denull(info) or {}
  local name = info.name or "(unnamed)"
  if info.parentSessionId then
    name = "⑂ " .. name .. " (fork)"
  end
  local tags = M.tags_text(info)
  if tags ~= "" then
    name = util.one_line(name, 30) .. " " .. tags
  end
  local first = util.one_line(info.firstMessage, 50)
  local mark = (info.sessionId == active_id) and "* " or "  "
  return string.format(
    "%s%s │ %s │ %s",
    mark,
    util.one_line(name, 50),
    first ~= "" and first or "(empty)",
    util.age(info.modifiedAt or info.createdAt)
  )
end

--- Makes `info` the client's active session and shows its transcript in the chat.
function M.activate(client_id, info, items, has_more)
  info = util.denull(info)
  local s = state.get(client_id)
  s.active = info
  require("agent_ls.status").usage_from_items(client_id, items)
  require("agent_ls.chat").load(client_id, info, items or {}, has_more)
  state.emit("SessionChanged", { client_id = client_id, session = info })
  M.refresh_lists(client_id)
end

--- Active session of the client, or an error message.
local function active(c)
  local s = state.get(c.id)
  if not s.active then
    util.warn("no active session (:AgentNew or :AgentSessions)")
    return nil
  end
  return s.active
end

function M.new(name, cb)
  client.with_client(function(c)
    local params = vim.empty_dict()
    if name and vim.trim(name) ~= "" then
      params = { name = vim.trim(name) }
    end
    client.call(c, "agent/session/new", params, function(info)
      M.activate(c.id, info, {}, false)
      util.notify("new session " .. (util.nn(info.name) or info.sessionId))
      if cb then
        cb(info)
      end
    end)
  end)
end

function M.switch(session_id, cb)
  client.with_client(function(c)
    client.call(c, "agent/session/switch", { sessionId = session_id }, function(res)
      M.activate(c.id, res.session, res.items, res.hasMore)
      if cb then
        cb(res.session)
      end
    end)
  end)
end

--- cb(sessions) with the client's sessions, newest first; `tags`: only those with all of them.
function M.list(c, cb, tags)
  local params = { limit = config.options.session_list_limit }
  if tags and #tags > 0 then
    params.tags = tags
  end
  client.call(c, "agent/session/list", params, function(res)
    cb(util.denull(res.sessions) or {})
  end)
end

--- done(lines): the end of a session's transcript, as the chat would show it.
function M.preview(c, info, done)
  local params = { sessionId = info.sessionId, limit = config.options.preview_items }
  client.request(c, "agent/session/history", params, function(err, res)
    if err or not res then
      done({ "(could not read the session: " .. util.err_message(err or "no answer") .. ")" })
      return
    end
    done(require("agent_ls.chat").transcript_lines(c.id, info, util.denull(res.items) or {}, res.hasMore))
  end)
end

--- The session picker (a picker plugin with previews, or vim.ui.select); the choice becomes the
--- active session.
function M.pick(cb, tags)
  client.with_client(function(c)
    M.list(c, function(sessions)
      if #sessions == 0 then
        if tags and #tags > 0 then
          util.notify("no session tagged " .. M.tags_text({ tags = tags }))
        else
          util.notify("no sessions yet (:AgentNew)")
        end
        return
      end
      local active_id = state.get(c.id).active and state.get(c.id).active.sessionId
      require("agent_ls.picker").select(sessions, {
        prompt = (tags and #tags > 0) and ("Agent sessions tagged " .. M.tags_text({ tags = tags }))
          or "Agent sessions",
        kind = "agent_ls_session",
        format_item = function(info)
          return M.format(info, active_id)
        end,
        preview_title = "Transcript",
        preview = function(info, done)
          M.preview(c, info, done)
        end,
      }, function(choice)
        if choice then
          M.switch(choice.sessionId, cb)
        end
      end)
    end, tags)
  end)
end

--- :AgentTag [tag…] adds tags to the active session; `remove`: takes them off; no tags: edit
--- them all (vim.ui.input). agent/session/setMetadata replaces the list.
function M.tag(tags, remove, cb)
  client.with_client(function(c)
    local info = active(c)
    if not info then
      return
    end
    local function apply(list)
      local params = { sessionId = info.sessionId, tags = list }
      client.call(c, "agent/session/setMetadata", params, function(res)
        res = util.denull(res)
        local s = state.get(c.id)
        if s.active and s.active.sessionId == res.sessionId then
          s.active = res
        end
        util.notify("tags: " .. (M.tags_text(res) ~= "" and M.tags_text(res) or "(none)"))
        M.refresh_lists(c.id)
        state.emit("Tagged", { client_id = c.id, session = res })
        if cb then
          cb(res)
        end
      end)
    end
    local current = vim.deepcopy(info.tags or {})
    tags = vim.tbl_map(function(t)
      return (t:gsub("^#", ""))
    end, tags or {})
    if #tags == 0 then
      vim.ui.input({ prompt = "Tags (space between): ", default = table.concat(current, " ") }, function(input)
        if input then
          apply(vim.split(vim.trim(input), "%s+", { trimempty = true }))
        end
      end)
      return
    end
    local list = remove and {} or current
    for _, t in ipairs(remove and current or tags) do
      if not (remove and vim.tbl_contains(tags, t)) and not vim.tbl_contains(list, t) then
        list[#list + 1] = t
      end
    end
    apply(list)
  end)
end

local function apply_rename(c, session_id, name, cb)
  client.call(c, "agent/session/rename", { sessionId = session_id, name = name }, function(info)
    info = util.denull(info)
    local s = state.get(c.id)
    if s.active and s.active.sessionId == info.sessionId then
      s.active = info
      require("agent_ls.chat").set_title(c.id, info.name)
    end
    M.refresh_lists(c.id)
    if cb then
      cb(info)
    end
  end)
end

--- Renames the active session (or `session_id`); asks for the name when none is given.
function M.rename(name, cb, session_id)
  client.with_client(function(c)
    local target = session_id
    local current_name
    if not target then
      local info = active(c)
      if not info then
        return
      end
      target, current_name = info.sessionId, info.name
    end
    if name and vim.trim(name) ~= "" then
      apply_rename(c, target, vim.trim(name), cb)
      return
    end
    vim.ui.input({ prompt = "Session name: ", default = current_name or "" }, function(input)
      if input and vim.trim(input) ~= "" then
        apply_rename(c, target, vim.trim(input), cb)
      end
    end)
  end)
end

--- Forks the active session (or `session_id`) at `entry_id` (default: its last entry) and
--- switches to the fork.
function M.fork(entry_id, cb, session_id)
  client.with_client(function(c)
    local target = session_id
    if not target then
      local info = active(c)
      if not info then
        return
      end
      target = info.sessionId
    end
    local params = { sessionId = target }
    if entry_id and entry_id ~= "" then
      params.entryId = entry_id
    end
    client.call(c, "agent/session/fork", params, function(info)
      util.notify("forked into " .. (util.nn(info.name) or info.sessionId))
      M.switch(info.sessionId, cb)
    end)
  end)
end

--- Deletes a session (default: the active one) after a confirmation.
function M.delete(session_id, cb, opts)
  opts = opts or {}
  client.with_client(function(c)
    local s = state.get(c.id)
    local target = session_id or (s.active and s.active.sessionId)
    if not target then
      util.warn("no session to delete")
      return
    end
    local label = target
    if s.active and s.active.sessionId == target and s.active.name then
      label = s.active.name .. " (" .. target .. ")"
    end
    local function run()
      client.call(c, "agent/session/delete", { sessionId = target }, function()
        if s.active and s.active.sessionId == target then
          s.active = nil
          require("agent_ls.chat").load(c.id, nil, {}, false)
          state.emit("SessionChanged", { client_id = c.id, session = nil })
        end
        util.notify("deleted session " .. label)
        M.refresh_lists(c.id)
        if cb then
          cb(target)
        end
      end)
    end
    if opts.force then
      run()
      return
    end
    vim.ui.select({ "Delete", "Cancel" }, {
      prompt = "Delete session " .. label .. "? (it moves to the store's trash)",
      kind = "agent_ls_confirm",
    }, function(choice)
      if choice == "Delete" then
        run()
      end
    end)
  end)
end

-- The session list buffer (:AgentSessions!), refreshed on agent/session/listChanged.

local function list_session_at_cursor(entry)
  local row = vim.api.nvim_win_get_cursor(0)[1]
  return entry.sessions[row - 2]
end

local function render_list(client_id, sessions)
  local entry = M.lists[client_id]
  if not entry or not vim.api.nvim_buf_is_valid(entry.buf) then
    return
  end
  entry.sessions = sessions
  local s = state.get(client_id)
  local active_id = s.active and s.active.sessionId
  local lines = { "Agent sessions · <CR> switch · n new · r rename · f fork · d delete · R refresh", "" }
  for _, info in ipairs(sessions) do
    lines[#lines + 1] = M.format(info, active_id)
  end
  if #sessions == 0 then
    lines[#lines + 1] = "  (no sessions yet: press n)"
  end
  vim.bo[entry.buf].modifiable = true
  vim.api.nvim_buf_set_lines(entry.buf, 0, -1, false, lines)
  vim.bo[entry.buf].modifiable = false
  vim.api.nvim_buf_clear_namespace(entry.buf, ns, 0, -1)
  vim.api.nvim_buf_set_extmark(entry.buf, ns, 0, 0, { line_hl_group = "Title" })
  state.emit("SessionListRendered", { client_id = client_id, count = #sessions })
end

--- Re-reads the session list of every open list buffer of the client.
function M.refresh_lists(client_id)
  local entry = M.lists[client_id]
  if not entry or not vim.api.nvim_buf_is_valid(entry.buf) then
    return
  end
  local c = vim.lsp.get_client_by_id(client_id)
  if not c then
    return
  end
  M.list(c, function(sessions)
    render_list(client_id, sessions)
  end)
end

--- The client exited: its list buffer goes (its mappings talk to that client).
function M.detach(client_id)
  local entry = M.lists[client_id]
  M.lists[client_id] = nil
  if entry and vim.api.nvim_buf_is_valid(entry.buf) then
    pcall(vim.api.nvim_buf_delete, entry.buf, { force = true })
  end
end

--- Re-reads the session the chat shows (another process may have added a turn to it); the
--- chat is re-rendered only when its last entry changed. Not while this client runs a turn in it.
function M.refresh_viewed(client_id)
  local s = state.get(client_id)
  local c = vim.lsp.get_client_by_id(client_id)
  local info = s.active
  if not (c and info) or (s.running and s.running.session_id == info.sessionId) then
    return
  end
  client.request(c, "agent/session/history", { sessionId = info.sessionId }, function(err, res)
    if err or not res or not s.active or s.active.sessionId ~= info.sessionId or s.running then
      return -- gone (deleted elsewhere: the next prompt says so) or changed meanwhile
    end
    local chat = require("agent_ls.chat")
    if chat.refresh(client_id, s.active, util.denull(res.items) or {}, res.hasMore) then
      state.emit("SessionRefreshed", { client_id = client_id, session_id = info.sessionId })
    end
  end)
end

--- agent/session/listChanged: another process wrote to the store.
function M.on_list_changed(client_id)
  M.refresh_lists(client_id)
  M.refresh_viewed(client_id)
  state.emit("ListChanged", { client_id = client_id })
end

--- Opens (or focuses) the session list buffer in a split.
function M.open_list()
  client.with_client(function(c)
    local entry = M.lists[c.id]
    if not entry or not vim.api.nvim_buf_is_valid(entry.buf) then
      local buf = vim.api.nvim_create_buf(false, true)
      pcall(vim.api.nvim_buf_set_name, buf, "agent-ls://sessions/" .. c.id)
      vim.bo[buf].buftype = "nofile"
      vim.bo[buf].bufhidden = "hide"
      vim.bo[buf].swapfile = false
      vim.bo[buf].filetype = "agent_ls_sessions"
      vim.b[buf].agent_ls_client = c.id
      entry = { buf = buf, sessions = {} }
      M.lists[c.id] = entry
      local function map(lhs, fn, desc)
        vim.keymap.set("n", lhs, fn, { buffer = buf, desc = "agent_ls: " .. desc, nowait = true })
      end
      local function with_session(fn)
        return function()
          local info = list_session_at_cursor(entry)
          if info then
            fn(info)
          end
        end
      end
      map("<CR>", with_session(function(info)
        M.switch(info.sessionId)
      end), "switch to the session")
      map("n", function()
        M.new()
      end, "new session")
      map("r", with_session(function(info)
        vim.ui.input({ prompt = "Session name: ", default = info.name or "" }, function(input)
          if input and vim.trim(input) ~= "" then
            apply_rename(c, info.sessionId, vim.trim(input))
          end
        end)
      end), "rename the session")
      map("f", with_session(function(info)
        M.fork(nil, nil, info.sessionId)
      end), "fork the session")
      map("d", with_session(function(info)
        M.delete(info.sessionId)
      end), "delete the session")
      map("R", function()
        M.refresh_lists(c.id)
      end, "refresh")
      map("q", function()
        if not pcall(vim.api.nvim_win_close, 0, false) then
          vim.cmd.bprevious()
        end
      end, "close")
    end
    local win = vim.fn.bufwinid(entry.buf)
    if win ~= -1 then
      vim.api.nvim_set_current_win(win)
    else
      vim.cmd("topleft split")
      vim.api.nvim_win_set_buf(0, entry.buf)
      vim.api.nvim_win_set_height(0, 12)
    end
    M.refresh_lists(c.id)
  end)
end

return M
