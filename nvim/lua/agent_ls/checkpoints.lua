-- Checkpoints: the list (vim.ui.select), a diff of one in a new tab (before/after scratch buffers
-- with :diffthis), and revert (agent/checkpoint/restore, all or nothing: conflicts are asked
-- about before anything is written) with undo offered.
local client = require("agent_ls.client")
local state = require("agent_ls.state")
local util = require("agent_ls.util")

local M = {}

--- Newest first. Times within one second are common (ISO strings with milliseconds compare
--- as text); ties keep the server's order (oldest first), reversed.
local function sorted(checkpoints)
  local list = {}
  for i, cp in ipairs(checkpoints) do
    list[i] = { cp = cp, i = i, t = type(cp.createdAt) == "string" and cp.createdAt or "" }
  end
  table.sort(list, function(a, b)
    if a.t ~= b.t then
      return a.t > b.t
    end
    return a.i > b.i
  end)
  return vim.tbl_map(function(x)
    return x.cp
  end, list)
end

--- cb(checkpoints) for the active session, newest first.
function M.list(c, cb)
  local s = state.get(c.id)
  if not s.active then
    util.warn("no active session (:AgentNew or :AgentSessions)")
    return
  end
  client.call(c, "agent/checkpoint/list", { sessionId = s.active.sessionId }, function(res)
    cb(sorted(util.denull(res.checkpoints) or {}))
  end)
end

function M.format(cp, root)
  local files = cp.files or {}
  local names = {}
  for i, f in ipairs(files) do
    if i > 3 then
      names[#names + 1] = "…"
      break
    end
    names[#names + 1] = util.display_path(f.uri or f.path, root)
  end
  local t = util.parse_time(cp.createdAt)
  local label = util.one_line(cp.prompt, 50)
  if cp.kind == "undo" then
    -- An undo point has no prompt of its own: it holds the files as they were before a revert.
    label = "↶ undo point (before a revert)"
  end
  return string.format(
    "%s  %s  [%s]",
    t and os.date("%m-%d %H:%M", t) or "",
    label,
    table.concat(names, ", ")
  )
end

--- :AgentCheckpoints — pick one; its diff opens in a new tab.
function M.pick()
  client.with_client(function(c)
    M.list(c, function(checkpoints)
      if #checkpoints == 0 then
        util.notify("no checkpoints in this session yet")
        return
      end
      local root = client.client_root(c)
      vim.ui.select(checkpoints, {
        prompt = "Checkpoints (newest first)",
        kind = "agent_ls_checkpoint",
        format_item = function(cp)
          return M.format(cp, root)
        end,
      }, function(choice)
        if choice then
          M.diff(choice.checkpointId)
        end
      end)
    end)
  end)
end

local function scratch(name, lines, ft)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].swapfile = false
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  if not pcall(vim.api.nvim_buf_set_name, buf, name) then
    pcall(vim.api.nvim_buf_set_name, buf, name .. " (" .. buf .. ")")
  end
  if ft and ft ~= "" then
    vim.bo[buf].filetype = ft
  end
  return buf
end

local function text_lines(text)
  text = util.nn(text)
  if not text or text == "" then
    return {}
  end
  local lines = vim.split(text, "\n", { plain = true })
  if lines[#lines] == "" then
    table.remove(lines)
  end
  return lines
end

--- Shows file `idx` of a diff tab: before (left) and after (right), both in diff mode.
local function show_file(tab, idx)
  local file = tab.files[idx]
  if not file then
    return
  end
  tab.idx = idx
  local path = util.display_path(file.uri, tab.root)
  local ft = vim.filetype.match({ filename = vim.uri_to_fname(file.uri) }) or ""
  local prefix = "agent-ls://checkpoint/" .. tab.checkpoint_id .. "/"
  local before = scratch(prefix .. "before/" .. path, text_lines(file.before), ft)
  local after = scratch(prefix .. "after/" .. path, text_lines(file.after), ft)
  vim.api.nvim_win_set_buf(tab.left, before)
  vim.api.nvim_win_set_buf(tab.right, after)
  for _, win in ipairs({ tab.left, tab.right }) do
    vim.api.nvim_win_call(win, function()
      vim.cmd("diffthis")
    end)
  end
  tab.sides = { [before] = "before", [after] = "after" }
  for _, buf in ipairs({ before, after }) do
    vim.b[buf].agent_ls_client = tab.client_id
    M.tab_keymaps(tab, buf)
  end
  local hunk_key = (require("agent_ls.config").options.keymaps or {}).hunk_revert
  vim.wo[tab.left].winbar = string.format(
    "before · %s (%s) · file %d/%d · ]f [f files · %sR revert · q close",
    path,
    file.operation or "modified",
    idx,
    #tab.files,
    hunk_key and (hunk_key .. " revert the hunk · ") or ""
  )
  vim.wo[tab.right].winbar = "after · " .. path
  state.emit("DiffShown", { checkpoint_id = tab.checkpoint_id, uri = file.uri, before = before, after = after })
end

function M.tab_keymaps(tab, buf)
  local function map(lhs, fn, desc)
    vim.keymap.set("n", lhs, fn, { buffer = buf, desc = "agent_ls: " .. desc, nowait = true })
  end
  map("]f", function()
    show_file(tab, tab.idx % #tab.files + 1)
  end, "next file of the checkpoint")
  map("[f", function()
    show_file(tab, (tab.idx - 2) % #tab.files + 1)
  end, "previous file of the checkpoint")
  map("q", function()
    if #vim.api.nvim_list_tabpages() > 1 then
      vim.cmd.tabclose()
    end
  end, "close the diff tab")
  map("R", function()
    M.revert(tab.checkpoint_id)
  end, "revert this checkpoint")
  local hunk_key = (require("agent_ls.config").options.keymaps or {}).hunk_revert
  if hunk_key then
    map(hunk_key, function()
      M.revert_hunk(tab, tab.sides[buf], vim.api.nvim_win_get_cursor(0)[1])
    end, "revert the hunk under the cursor (in the file as it is now)")
  end
end

--- The hunk of `file` (its `hunks` from agent/checkpoint/diff) that holds 1-based line `lnum` of
--- the `side` ("before" or "after") buffer, or nil.
function M.hunk_at(file, side, lnum)
  for _, h in ipairs(file.hunks or {}) do
    local start, count = h.newStart, h.newLines
    if side == "before" then
      start, count = h.oldStart, h.oldLines
    end
    if lnum >= start and lnum < start + math.max(count, 1) then
      return h
    end
  end
end

--- Reverts the hunk under the cursor of a diff tab in the file as it is now
--- (agent/checkpoint/revertHunks): the agent's change there is undone, the rest stays.
function M.revert_hunk(tab, side, lnum)
  local file = tab.files[tab.idx]
  local hunk = file and M.hunk_at(file, side, lnum)
  if not hunk then
    util.warn("no change of the agent's on this line")
    return
  end
  local c = vim.lsp.get_client_by_id(tab.client_id)
  if not c then
    return
  end
  local params = { checkpointId = tab.checkpoint_id, uri = file.uri, hunks = { hunk.index } }
  client.call(c, "agent/checkpoint/revertHunks", params, function(res)
    res = util.denull(res) or {}
    local f = (res.files or {})[1] or {}
    local path = util.display_path(file.uri, tab.root)
    local where = ("%s, lines %d-%d"):format(path, hunk.newStart, hunk.newStart + math.max(hunk.newLines, 1) - 1)
    if res.applied == false or f.result == "conflict" or f.result == "failed" then
      util.warn(("could not revert the change at %s: %s"):format(where, f.reason or f.result or "not applied"))
    else
      local text = "reverted the change at " .. where
      if res.undoCheckpointId then
        state.get(c.id).last_undo = res.undoCheckpointId
        state.get(c.id).last_undo_scope = "files"
        text = text .. " · undo with :AgentRevert undo"
      end
      util.notify(text)
      require("agent_ls.chat").add_note(c.id, "- ↺ " .. text)
    end
    state.emit("HunkReverted", { client_id = c.id, checkpoint_id = tab.checkpoint_id, hunk = hunk.index, result = res })
  end)
end

--- Opens a new tab with the before/after diff of a checkpoint (`uri` picks one file).
function M.diff(checkpoint_id, uri)
  client.with_client(function(c)
    local params = { checkpointId = checkpoint_id }
    if uri then
      params.uri = uri
    end
    client.call(c, "agent/checkpoint/diff", params, function(res)
      local files = util.denull(res.files) or {}
      if #files == 0 then
        util.notify("checkpoint " .. checkpoint_id .. " changed no files")
        return
      end
      vim.cmd.tabnew()
      local scratch = vim.api.nvim_get_current_buf()
      local tab = {
        checkpoint_id = checkpoint_id,
        client_id = c.id,
        root = client.client_root(c),
        files = files,
        idx = 1,
        left = vim.api.nvim_get_current_win(),
      }
      vim.cmd("rightbelow vsplit")
      tab.right = vim.api.nvim_get_current_win()
      show_file(tab, 1)
      if vim.api.nvim_buf_is_valid(scratch) and vim.api.nvim_buf_get_name(scratch) == "" then
        pcall(vim.api.nvim_buf_delete, scratch, { force = true })
      end
      vim.api.nvim_set_current_win(tab.right)
    end)
  end)
end

--- Restores a checkpoint, all or nothing (conflicts are asked about first: agent_ls.rewind).
local function revert_checked(c, checkpoint_id, scope, cb)
  local rewind = require("agent_ls.rewind")
  local params = { checkpointId = checkpoint_id, scope = scope }
  rewind.resolve(c, "agent/checkpoint/restore", params, "revert", function(res, err)
    if not res then
      if not (err and err.cancelled) then
        state.emit("Reverted", { client_id = c.id, checkpoint_id = checkpoint_id, err = err })
      end
      if cb then
        cb(nil, err)
      end
      return
    end
    local label = "revert " .. require("agent_ls.chat").short_id(checkpoint_id)
    rewind.report(c, res, "revert", label, scope)
    local s = state.get(c.id)
    if scope ~= "files" and s.active then
      require("agent_ls.sessions").switch(s.active.sessionId)
    end
    state.emit("Reverted", { client_id = c.id, checkpoint_id = checkpoint_id, result = res })
    if cb then
      cb(res)
    end
  end)
end

--- :AgentRevert [checkpoint|undo] [files|conversation|both] — default: the latest checkpoint of
--- the active session, scope "files". "undo" restores the last revert's undo checkpoint.
function M.revert(checkpoint_id, scope, cb)
  scope = scope or "files"
  client.with_client(function(c)
    local s = state.get(c.id)
    if checkpoint_id == "undo" then
      if not s.last_undo then
        util.warn("no revert to undo")
        return
      end
      -- The undo's own undo checkpoint replaces last_undo: "undo" again redoes the revert.
      -- With the revert's scope: undoing a rewind of the conversation brings it back too.
      revert_checked(c, s.last_undo, s.last_undo_scope or "files", cb)
      return
    end
    if checkpoint_id then
      revert_checked(c, checkpoint_id, scope, cb)
      return
    end
    M.list(c, function(checkpoints)
      if #checkpoints == 0 then
        util.notify("nothing to revert: no checkpoints in this session")
        return
      end
      revert_checked(c, checkpoints[1].checkpointId, scope, cb)
    end)
  end)
end

--- Checkpoint ids of the active session for command-line completion, plus "undo".
function M.complete(arglead)
  local c = client.current()
  local out = { "undo" }
  if c and state.clients[c.id] and state.clients[c.id].active then
    local ok, res = pcall(function()
      return util.call(c, "request_sync", "agent/checkpoint/list", {
        sessionId = state.clients[c.id].active.sessionId,
      }, 1000)
    end)
    if ok and res and res.result then
      for _, cp in ipairs(sorted(util.denull(res.result.checkpoints) or {})) do
        out[#out + 1] = cp.checkpointId
      end
    end
  end
  return vim.tbl_filter(function(x)
    return x:sub(1, #arglead) == arglead
  end, out)
end

return M
