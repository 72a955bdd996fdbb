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
  if value.message then
    run.activity = value.message
  end
  if value.percentage then
    run.percentage = value.percentage
  end
  redraw()
end

--- Token usage of one model response: its model and how many tokens of the context it used.
local function read_usage(usage, model)
  usage = util.denull(usage) or {}
  local function n(camel, snake)
    return tonumber(usage[camel] or usage[snake]) or 0
  end
  local input = n("inputTokens", "input_tokens")
    + n("cacheReadInputTokens", "cache_read_input_tokens")
    + n("cacheCreationInputTokens", "cache_creation_input_tokens")
  return { model = util.nn(model), context = input + n("outputTokens", "output_tokens") }
end

--- Records the usage the client's active session last reported (an update or a reloaded item).
function M.set_usage(client_id, usage, model)
  local s = state.get(client_id)
  s.usage = read_usage(usage, model or (s.usage and s.usage.model))
  redraw()
end

--- The usage of the last assistant item of a transcript page (after a switch), or none.
function M.usage_from_items(client_id, items)
  local s = state.get(client_id)
  s.usage = nil
  for i = #(items or {}), 1, -1 do
    local item = util.denull(items[i]) or {}
    if item.usage then
      s.usage = read_usage(item.usage, item.model)
      break
    end
  end
  redraw()
end

--- agent/session/update: what the agent is doing (writing, thinking, a tool), and token usage.
function M.on_update(client_id, params)
  local s = state.get(client_id)
  local run = s.running
  local update = params.update or {}
  local kind = update.kind or update.sessionUpdate
  if kind == "usage" and s.active and s.active.sessionId == params.sessionId then
    M.set_usage(client_id, update.usage, update.model)
  end
  if not run or run.session_id ~= params.sessionId then
    return
  end
  if kind == "tool_call" or kind == "tool_call_update" then
    local title = update.title or (type(update.toolCall) == "table" and update.toolCall.title)
    if title then
      run.activity = title
    end
  elseif kind == "agent_message_chunk" then
    run.activity = "writing"
  elseif kind == "agent_thought_chunk" then
    run.activity = "thinking"
  end
end

local function tokens(n)
  if n >= 1000 then
    return (string.format("%.1fk", n / 1000):gsub("%.0k$", "k"))
  end
  return tostring(n)
end

--- "model · 12.3k/200k tokens": the last response's model and how much of the context it used
--- (no percent sign: statusline plugins would read it as an item).
function M.usage_text(client_id)
  local s = state.clients[client_id]
  local u = s and s.usage
  local model = (u and u.model) or require("agent_ls.config").options.model
  if not u then
    return model or ""
  end
  local window = require("agent_ls.config").options.context_window or 200000
  local text = string.format("%s/%s tokens", tokens(u.context), tokens(window))
  return model and (model .. " · " .. text) or text
end

--- The chat window's winbar: model, tokens and context fill, the running turn.
function M.winbar()
  local win = vim.g.statusline_winid or vim.api.nvim_get_current_win()
  local buf = vim.api.nvim_win_is_valid(win) and vim.api.nvim_win_get_buf(win) or 0
  local client_id = vim.b[buf].agent_ls_client
  if not client_id then
    return ""
  end
  local parts = {}
  local usage = M.usage_text(client_id)
  if usage ~= "" then
    parts[#parts + 1] = usage
  end
  local running = M.status(client_id)
  if running ~= "" then
    parts[#parts + 1] = running
  end
  return (table.concat(parts, " │ "):gsub("%%", "%%%%"))
end

--- Statusline text: a spinner and what the agent does while a turn runs, else "".
--- opts.usage: also the model and token usage (also when no turn runs).
function M.status(client_id, opts)
  if not client_id then
    local c = require("agent_ls.client").current()
    client_id = c and c.id
    local s = client_id and state.clients[client_id]
    if not (s and s.running) then
      for id, other in pairs(state.clients) do
        if other.running then
          client_id = id
          break
        end
      end
    end
  end
  local s = client_id and state.clients[client_id]
  local usage = (opts and opts.usage and client_id) and M.usage_text(client_id) or ""
  local run = s and s.running
  if not run then
    return usage
  end
  local frame = FRAMES[math.floor(vim.uv.now() / 120) % #FRAMES + 1]
  local what = run.cancelling and "cancelling…" or run.activity or run.title or "working"
  local text = frame .. " agent: " .. util.one_line(what, 40)
  return usage ~= "" and (text .. " · " .. usage) or text
end

return M
