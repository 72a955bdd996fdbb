-- Rewind and restore: :AgentRewind (a user message, then the scope) and the all-or-nothing
-- restore both it and :AgentRevert use. A restore with a conflicting file writes nothing and
-- answers its plan (`applied: false`); the plan is shown and the user picks: restore the others
-- (`partial`), overwrite all (`force`) or cancel.
local client = require("agent_ls.client")
local state = require("agent_ls.state")
local util = require("agent_ls.util")

local M = {}

M.SCOPES = {
  { scope = "both", label = "Conversation and files: back to before this message" },
  { scope = "conversation", label = "Conversation only: the files stay as they are" },
  { scope = "files", label = "Files only: the conversation stays" },
}

M.CHOICES = {
  "Restore the others, keep the conflicting files",
  "Overwrite all, the conflicting files too",
  "Cancel",
}

local VERB = {
  restored = "restore",
  merged = "merge (your edits kept)",
  conflict = "conflict",
  unchanged = "unchanged",
  skipped = "skipped",
  failed = "failed",
}

local function conflicts_of(files)
  return vim.tbl_filter(function(f)
    return f.result == "conflict" or f.conflict == true
  end, files or {})
end

--- One line per file of a restore's plan or result: "restore a.py", "conflict b.py: reason".
function M.plan_lines(files, root)
  local lines = {}
  for _, f in ipairs(files or {}) do
    local line = (VERB[f.result] or f.result or "?") .. " " .. util.display_path(f.uri or f.path, root)
    if f.reason then
      line = line .. ": " .. f.reason
    end
    lines[#lines + 1] = line
  end
  return lines
end

--- The plan's files in the quickfix list (conflicts first), so they can be visited.
local function plan_to_quickfix(files, title)
  local items = {}
  for _, f in ipairs(files) do
    local item = {
      filename = vim.uri_to_fname(f.uri),
      lnum = 1,
      text = (VERB[f.result] or f.result or "?") .. (f.reason and (": " .. f.reason) or ""),
      type = f.result == "conflict" and "W" or "I",
    }
    table.insert(items, f.result == "conflict" and 1 or #items + 1, item)
  end
  vim.fn.setqflist({}, " ", { title = title, items = items })
end

--- "restored 2 files, merged 1, 1 conflict skipped, …" for a result.
function M.summary(res, root)
  local counts = {}
  local failed = {}
  for _, f in ipairs(res.files or {}) do
    counts[f.result] = (counts[f.result] or 0) + 1
    if f.result == "failed" then
      failed[#failed + 1] = util.display_path(f.uri, root) .. (f.reason and (": " .. f.reason) or "")
    end
  end
  if #(res.files or {}) == 0 then
    return "no file to restore", counts
  end
  local n = counts.restored or 0
  local parts = { string.format("reverted %d file%s", n, n == 1 and "" or "s") }
  if counts.merged then
    parts[#parts + 1] = string.format("merged %d (your edits kept)", counts.merged)
  end
  local kept = (counts.skipped or 0) + (counts.conflict or 0)
  if kept > 0 then
    parts[#parts + 1] = string.format("%d conflict%s kept", kept, kept == 1 and "" or "s")
  end
  if counts.unchanged then
    parts[#parts + 1] = string.format("%d unchanged", counts.unchanged)
  end
  if #failed > 0 then
    parts[#parts + 1] = "failed: " .. table.concat(failed, "; ")
  end
  return table.concat(parts, ", "), counts
end

--- Asks what to do about a plan with conflicts; then(params') with `partial` or `force` set,
--- or cb(nil, cancelled).
local function ask(c, params, plan, what, cb, again)
  local root = client.client_root(c)
  plan_to_quickfix(plan.files, "agent_ls: " .. what .. " plan")
  local names = vim.tbl_map(function(f)
    return util.display_path(f.uri, root)
  end, conflicts_of(plan.files))
  local prompt = string.format(
    "%s: changed since the agent's edit: %s (nothing is written until you choose)\n%s",
    what,
    table.concat(names, ", "),
    table.concat(M.plan_lines(plan.files, root), "\n")
  )
  vim.ui.select(M.CHOICES, { prompt = prompt, kind = "agent_ls_conflict" }, function(choice)
    local p = vim.deepcopy(params)
    if choice == M.CHOICES[1] then
      p.partial = true
    elseif choice == M.CHOICES[2] then
      p.force = true
    else
      util.notify(what .. " cancelled: nothing was written")
      cb(nil, { message = "cancelled", cancelled = true })
      return
    end
    again(p)
  end)
end

--- Restores all or nothing (`method` agent/checkpoint/restore or agent/session/rewind): a dry
--- run first; when it plans a conflict, the plan goes to the quickfix list and the user chooses
--- before anything is written (restore the others: `partial`; overwrite all: `force`). A file
--- that changed between the dry run and the restore makes the server answer the plan again
--- (`applied: false`), asked the same way. cb(result) once applied, cb(nil, err) otherwise.
function M.resolve(c, method, params, what, cb)
  local function failed(err)
    util.error(what .. ": " .. util.err_message(err))
    cb(nil, err)
  end
  local function apply(p)
    client.request(c, method, p, function(err, res)
      if err then
        return failed(err)
      end
      res = util.denull(res) or {}
      if res.applied == false and #conflicts_of(res.files) > 0 and not (p.force or p.partial) then
        ask(c, p, res, what, cb, apply)
        return
      end
      cb(res)
    end)
  end
  local dry = vim.tbl_extend("force", params, { dryRun = true })
  client.request(c, method, dry, function(err, plan)
    if err then
      return failed(err)
    end
    plan = util.denull(plan) or {}
    if #conflicts_of(plan.files) == 0 then
      apply(params)
    else
      ask(c, params, plan, what, cb, apply)
    end
  end)
end

--- After a restore that applied: the summary, the undo it offers, a line in the chat.
--- `scope` is the restore's: its undo uses the same one, so undoing a rewind of the
--- conversation brings the conversation back too.
function M.report(c, res, what, label, scope)
  local s = state.get(c.id)
  local root = client.client_root(c)
  local text, counts = M.summary(res, root)
  if res.undoCheckpointId then
    s.last_undo = res.undoCheckpointId
    s.last_undo_scope = scope or "files"
    text = text .. " · undo with :AgentRevert undo"
  end
  local kept = (counts.skipped or 0) + (counts.conflict or 0)
  if kept > 0 then
    plan_to_quickfix(conflicts_of(res.files), "agent_ls: kept conflicts")
    text = text .. " (kept conflicts in :copen)"
  end
  util.notify(what .. ": " .. text, kept > 0 and vim.log.levels.WARN or vim.log.levels.INFO)
  require("agent_ls.chat").add_note(c.id, "- ↺ " .. label .. ": " .. text)
  return text
end

--- Every user message on the active path, oldest first: {entryId, text, ts}; pages through
--- agent/session/history. cb(messages) or nothing after an error (reported).
function M.user_messages(c, session_id, cb)
  local out = {}
  local function page(before)
    local params = { sessionId = session_id, limit = 200, before = before }
    client.call(c, "agent/session/history", params, function(res)
      local items = util.denull(res.items) or {}
      local msgs = {}
      for _, item in ipairs(items) do
        local text = (item.kind == "user") and util.content_text(item.content) or ""
        if text ~= "" and item.entryId then
          msgs[#msgs + 1] = { entryId = item.entryId, text = text, ts = item.ts }
        end
      end
      out = vim.list_extend(msgs, out)
      if res.hasMore and items[1] and items[1].entryId and #out < 2000 then
        page(items[1].entryId)
      else
        cb(out)
      end
    end)
  end
  page(nil)
end

--- Rewinds the active session to before the user message `entry_id` with `scope`.
local function run(c, info, msg, scope, cb)
  local params = { sessionId = info.sessionId, entryId = msg.entryId, scope = scope }
  M.resolve(c, "agent/session/rewind", params, "rewind", function(res, err)
    if not res then
      state.emit("Rewound", { client_id = c.id, err = err, cancelled = err and err.cancelled })
      if cb then
        cb(nil, err)
      end
      return
    end
    local chat = require("agent_ls.chat")
    local label = "rewind to before “" .. util.one_line(msg.text, 40) .. "”"
    if scope ~= "files" then
      -- The conversation is back to before the message: the chat shows that, and the message
      -- waits in the prompt area to be changed and sent again.
      require("agent_ls.sessions").switch(info.sessionId, function()
        M.report(c, res, "rewind", label, scope)
        local typed = chat.input(c.id)
        if typed == "" then
          chat.set_input(c.id, msg.text)
        end
        state.emit("Rewound", { client_id = c.id, result = res, scope = scope })
        if cb then
          cb(res)
        end
      end)
      return
    end
    M.report(c, res, "rewind", label, scope)
    state.emit("Rewound", { client_id = c.id, result = res, scope = scope })
    if cb then
      cb(res)
    end
  end)
end

local function pick_scope(c, info, msg, scope, cb)
  if scope then
    run(c, info, msg, scope, cb)
    return
  end
  vim.ui.select(M.SCOPES, {
    prompt = "Rewind to before “" .. util.one_line(msg.text, 50) .. "”",
    kind = "agent_ls_rewind_scope",
    format_item = function(x)
      return x.label
    end,
  }, function(choice)
    if choice then
      run(c, info, msg, choice.scope, cb)
    end
  end)
end

--- :AgentRewind [scope] — pick one of your messages (newest first), then the scope; or
--- rewind(entry_id) from the chat's key on a message.
function M.rewind(entry_id, scope, cb)
  client.with_client(function(c)
    local s = state.get(c.id)
    if s.running then
      util.warn("a turn is running: :AgentCancel it first")
      return
    end
    local info = s.active
    if not info then
      util.warn("no active session (:AgentSessions)")
      return
    end
    M.user_messages(c, info.sessionId, function(msgs)
      if entry_id then
        for _, msg in ipairs(msgs) do
          if msg.entryId == entry_id then
            pick_scope(c, info, msg, scope, cb)
            return
          end
        end
        util.warn("that message is not on the session's active path any more")
        return
      end
      if #msgs == 0 then
        util.notify("nothing to rewind: no messages of yours in this session")
        return
      end
      local newest = {}
      for i = #msgs, 1, -1 do
        newest[#newest + 1] = msgs[i]
      end
      require("agent_ls.picker").select(newest, {
        prompt = "Rewind to before which message?",
        kind = "agent_ls_rewind",
        format_item = function(msg)
          local t = util.parse_time(msg.ts)
          return (t and os.date("%H:%M", t) .. "  " or "") .. util.one_line(msg.text, 70)
        end,
        preview_title = "Message",
        preview = function(msg, done)
          done(vim.split(msg.text, "\n", { plain = true }))
        end,
      }, function(choice)
        if choice then
          pick_scope(c, info, choice, scope, cb)
        end
      end)
    end)
  end)
end

return M
