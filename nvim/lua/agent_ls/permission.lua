-- agent/session/requestPermission: the server asks before a tool that runs commands; the user
-- answers through vim.ui.select. An edit under review (its request carries the diff as
-- toolCall.content) opens as a diff tab instead, answered with ga (accept) or gr (reject).
-- The answer is {outcome = {outcome = "selected", optionId}} or {outcome = {outcome =
-- "cancelled"}} when the choice is dismissed (ACP's shape).
local config = require("agent_ls.config")
local util = require("agent_ls.util")

local M = {}

local function describe(tool_call)
  tool_call = tool_call or {}
  local title = tool_call.title or tool_call.name or tool_call.kind or "a tool"
  local raw = tool_call.rawInput or tool_call.input
  local detail
  if type(raw) == "table" then
    detail = raw.command or raw.cmd or raw.path
  end
  if detail and not tostring(title):find(tostring(detail), 1, true) then
    return string.format("%s: %s", title, detail)
  end
  return tostring(title)
end

local function outcome(choice)
  if choice and choice.optionId then
    return { outcome = { outcome = "selected", optionId = choice.optionId } }
  end
  return { outcome = { outcome = "cancelled" } }
end

--- The diffs of an edit under review: toolCall.content items {type = "diff", path, oldText, newText}.
local function diffs_of(tool_call)
  local out = {}
  for _, item in ipairs(type(tool_call) == "table" and tool_call.content or {}) do
    if type(item) == "table" and item.type == "diff" and item.path then
      out[#out + 1] = item
    end
  end
  return out
end

local function option_of(options, kind)
  for _, o in ipairs(options) do
    if o.kind == kind then
      return o
    end
  end
end

--- A path relative to the client's workspace root.
local function shown_path(path, client_id)
  local c = vim.lsp.get_client_by_id(client_id)
  return util.display_path(path, c and require("agent_ls.client").client_root(c) or vim.fn.getcwd())
end

local function lines_of(text)
  if not text or text == "" then
    return {}
  end
  local lines = vim.split(text, "\n", { plain = true })
  if lines[#lines] == "" then
    table.remove(lines)
  end
  return lines
end

--- "+3 -1" lines of a change.
local function counts(diff)
  local added, removed = 0, 0
  local function joined(text)
    local lines = lines_of(text)
    return #lines == 0 and "" or table.concat(lines, "\n") .. "\n"
  end
  local diff_fn = (vim.text and vim.text.diff) or vim.diff -- vim.diff before 0.12
  local hunks = diff_fn(joined(diff.oldText), joined(diff.newText), { result_type = "indices" })
  for _, h in ipairs(hunks or {}) do
    removed, added = removed + h[2], added + h[4]
  end
  return ("+%d -%d"):format(added, removed) .. (diff.oldText == nil and " (new file)" or "")
end

--- Opens the review tab for `diffs` (before | after in diff mode, one file at a time); answer(option)
--- runs once, with the option ga or gr picked (nil: the tab was closed without an answer).
function M.review(tool_call, diffs, options, answer, client_id)
  local keys = config.options.keymaps or {}
  local accept = option_of(options, "allow_once")
  local reject = option_of(options, "reject_once")
  local done = false
  local tab = { idx = 1, bufs = {} }
  local function finish(option)
    if done then
      return
    end
    done = true
    pcall(vim.api.nvim_del_autocmd, tab.autocmd)
    if vim.api.nvim_tabpage_is_valid(tab.page) and #vim.api.nvim_list_tabpages() > 1 then
      local page = vim.api.nvim_tabpage_get_number(tab.page)
      pcall(vim.cmd.tabclose, page)
    end
    answer(option)
  end
  vim.cmd.tabnew()
  tab.page = vim.api.nvim_get_current_tabpage()
  tab.left = vim.api.nvim_get_current_win()
  local empty = vim.api.nvim_get_current_buf()
  vim.cmd("rightbelow vsplit")
  tab.right = vim.api.nvim_get_current_win()
  local function show(idx)
    tab.idx = idx
    local d = diffs[idx]
    local ft = vim.filetype.match({ filename = d.path }) or ""
    -- oldText is nil for a new file: its "before" is empty.
    for _, pair in ipairs({ { "before", d.oldText }, { "after", d.newText } }) do
      local side, text = pair[1], pair[2]
      local buf = vim.api.nvim_create_buf(false, true)
      vim.bo[buf].bufhidden = "wipe"
      vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines_of(text))
      vim.bo[buf].modifiable = false
      pcall(vim.api.nvim_buf_set_name, buf, ("agent-ls://review/%s/%s/%s"):format(side, vim.uv.hrtime(), d.path))
      if ft ~= "" then
        vim.bo[buf].filetype = ft
      end
      vim.b[buf].agent_ls_client = client_id
      local win = side == "before" and tab.left or tab.right
      vim.api.nvim_win_set_buf(win, buf)
      vim.api.nvim_win_call(win, function()
        vim.cmd("diffthis")
      end)
      tab.bufs[side] = buf
      local function map(lhs, fn, desc)
        if lhs then
          vim.keymap.set("n", lhs, fn, { buffer = buf, nowait = true, desc = "agent_ls: " .. desc })
        end
      end
      map(keys.review_accept, function()
        finish(accept)
      end, "accept the agent's edit")
      map(keys.review_reject, function()
        finish(reject)
      end, "reject the agent's edit")
      map("q", function()
        finish(nil)
      end, "close: the edit is rejected")
      map("]f", function()
        show(tab.idx % #diffs + 1)
      end, "next file")
      map("[f", function()
        show((tab.idx - 2) % #diffs + 1)
      end, "previous file")
    end
    local hints = {}
    if keys.review_accept then
      hints[#hints + 1] = keys.review_accept .. " accept"
    end
    if keys.review_reject then
      hints[#hints + 1] = keys.review_reject .. " reject"
    end
    if #diffs > 1 then
      hints[#hints + 1] = "]f [f files"
    end
    vim.wo[tab.left].winbar = ("review · %s (%s) · file %d/%d · %s"):format(
      shown_path(d.path, client_id),
      counts(d),
      idx,
      #diffs,
      table.concat(hints, " · ")
    )
    vim.wo[tab.right].winbar = "after · " .. (tool_call.title or "the agent's edit")
    require("agent_ls.state").emit("ReviewShown", {
      client_id = client_id,
      path = d.path,
      before = tab.bufs.before,
      after = tab.bufs.after,
      index = idx,
    })
  end
  show(1)
  if vim.api.nvim_buf_is_valid(empty) and vim.api.nvim_buf_get_name(empty) == "" then
    pcall(vim.api.nvim_buf_delete, empty, { force = true })
  end
  vim.api.nvim_set_current_win(tab.right)
  -- Closing the tab some other way is a rejection, so the turn never waits forever (the tab
  -- is still valid while TabClosed runs: look again after it).
  tab.autocmd = vim.api.nvim_create_autocmd("TabClosed", {
    callback = function()
      vim.schedule(function()
        if not vim.api.nvim_tabpage_is_valid(tab.page) then
          finish(nil)
        end
      end)
    end,
  })
end

--- The handler: runs inside the LSP client's coroutine for server requests, so it can yield
--- until vim.ui.select calls back (also with asynchronous vim.ui.select implementations).
function M.handle(params, ctx)
  params = util.denull(params) or {}
  local options = params.options or {}
  local what = describe(params.toolCall)
  -- The title already says what the tool does ("Run `make`", "Write a.py").
  local prompt = "Allow the agent to: " .. what .. "?"
  local function record(choice)
    local answer = choice and (choice.name or choice.optionId) or "dismissed"
    require("agent_ls.chat").add_note(ctx.client_id, "- ⚠ permission: " .. util.one_line(what, 80) .. " → " .. answer)
    require("agent_ls.state").emit("Permission", {
      client_id = ctx.client_id,
      params = params,
      choice = choice,
    })
  end
  local co, is_main = coroutine.running()
  local diffs = diffs_of(params.toolCall)
  if co and not is_main and #diffs > 0 then
    M.review(params.toolCall or {}, diffs, options, function(choice)
      vim.schedule(function()
        coroutine.resume(co, choice or false)
      end)
    end, ctx.client_id)
    local choice = coroutine.yield() or nil
    local names = vim.tbl_map(function(d)
      return shown_path(d.path, ctx.client_id)
    end, diffs)
    require("agent_ls.chat").add_note(
      ctx.client_id,
      ("- ⚠ review: %s → %s"):format(
        table.concat(names, ", "),
        choice and (choice.name or choice.optionId) or "closed (rejected)"
      )
    )
    require("agent_ls.state").emit("Permission", { client_id = ctx.client_id, params = params, choice = choice })
    return outcome(choice)
  end
  if co and not is_main then
    vim.ui.select(options, {
      prompt = prompt,
      kind = "agent_ls_permission",
      format_item = function(option)
        return option.name or option.optionId
      end,
    }, function(choice)
      -- Resume later: a synchronous vim.ui.select calls back before the yield below.
      vim.schedule(function()
        coroutine.resume(co, choice or false)
      end)
    end)
    local choice = coroutine.yield()
    choice = choice or nil
    record(choice)
    return outcome(choice)
  end
  local lines = { prompt }
  for i, option in ipairs(options) do
    lines[#lines + 1] = string.format("%d. %s", i, option.name or option.optionId)
  end
  local n = vim.fn.inputlist(lines)
  local choice = options[n]
  record(choice)
  return outcome(choice)
end

--- :AgentPermissions — the "always" answers remembered for the active session; the chosen one
--- is revoked (agent/permissions/revoke), so the server asks again next time.
function M.manage()
  local client = require("agent_ls.client")
  client.with_client(function(c)
    local s = require("agent_ls.state").get(c.id)
    if not s.active then
      util.warn("no active session (:AgentNew or :AgentSessions)")
      return
    end
    local sid = s.active.sessionId
    client.call(c, "agent/permissions/list", { sessionId = sid }, function(res)
      local rules = util.denull(res.rules) or {}
      if #rules == 0 then
        util.notify("no remembered permissions in this session")
        return
      end
      vim.ui.select(rules, {
        prompt = "Remembered permissions (pick one to revoke)",
        kind = "agent_ls_permission_rule",
        format_item = function(rule)
          return rule.description
        end,
      }, function(choice)
        if not choice then
          return
        end
        local params = { sessionId = sid, ruleId = choice.ruleId }
        client.call(c, "agent/permissions/revoke", params, function()
          util.notify("revoked: " .. choice.description)
        end)
      end)
    end)
  end)
end

return M
