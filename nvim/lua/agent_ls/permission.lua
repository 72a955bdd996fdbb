-- agent/session/requestPermission: the server asks before a tool that runs commands; the user
-- answers through vim.ui.select. The answer is {outcome = {outcome = "selected", optionId}} or
-- {outcome = {outcome = "cancelled"}} when the choice is dismissed (ACP's shape).
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
