-- Progress of the running turn: $/progress on the prompt's workDoneToken (LspProgress) and the
-- tool calls streamed in agent/session/update, shown by require("agent_ls").status().
local state = require("agent_ls.state")
local util = require("agent_ls.util")

local M = {}

local FRAMES = { "⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏" }
local timer

local function any_running()
  for _, s in pairs(state.clients) do
    if s.running then
      return true
    end
  end
  return false
end

local function redraw()
  pcall(vim.cmd.redrawstatus, { bang = true })
end

--- Redraws statuslines while a turn runs, so the spinner turns.
function M.tick()
  if timer or not any_running() then
    return
  end
  timer = vim.uv.new_timer()
  timer:start(
    120,
    120,
    vim.schedule_wrap(function()
      if not any_running() then
        if timer then
          timer:stop()
          timer:close()
          timer = nil
        end
      end
      redraw()
    end)
  )
end

--- LspProgress autocmd callback.
function M.on_progress(args)
  local data = args.data or {}
  local c = data.client_id and vim.lsp.get_client_by_id(data.client_id)
  if not c or c.name ~= "agent_ls" then
    return
  end
  local params = util.denull(data.params) or {}
  local value = type(params.value) == "table" and params.value or {}
  local s = state.get(c.id)
  local run = s.running
  if not run or run.token ~= params.token then
    return
  end
  if value.title then
    run.title = value.title
  end
  if value.kind == "begin" then
    run.message = value.message
  elseif value.message then
    run.message = value.message
  end
  if value.percentage then
    run.percentage = value.percentage
  end
  redraw()
end

--- agent/session/update: tool calls name what the agent is doing.
function M.on_update(client_id, params)
  local s = state.get(client_id)
  local run = s.running
  local update = params.update or {}
  local kind = update.kind or update.sessionUpdate
  if not run or run.session_id ~= params.sessionId then
    return
  end
  if kind == "tool_call" or kind == "tool_call_update" then
    local title = update.title or (type(update.toolCall) == "table" and update.toolCall.title)
    if title then
      run.tool = title
    end
  elseif kind == "agent_message_chunk" then
    run.tool = nil
  end
end

--- Statusline text: a spinner and what the agent does while a turn runs, else "".
function M.status(client_id)
  local s
  if client_id then
    s = state.clients[client_id]
  else
    local c = require("agent_ls.client").current()
    s = c and state.clients[c.id]
    if not (s and s.running) then
      for _, other in pairs(state.clients) do
        if other.running then
          s = other
          break
        end
      end
    end
  end
  local run = s and s.running
  if not run then
    return ""
  end
  local frame = FRAMES[math.floor(vim.uv.now() / 120) % #FRAMES + 1]
  local what = run.message or run.tool or run.title or "working"
  return frame .. " agent: " .. util.one_line(what, 40)
end

return M
