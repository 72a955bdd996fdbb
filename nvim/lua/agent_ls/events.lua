-- agent/session/update: routed to the chat, the status line and `User AgentLsUpdate`.
local state = require("agent_ls.state")
local util = require("agent_ls.util")

local M = {}

function M.on_update(client_id, params)
  params = util.denull(params) or {}
  local update = params.update or {}
  local kind = update.kind or update.sessionUpdate
  local s = state.get(client_id)
  if kind == "session_info" and s.active and s.active.sessionId == params.sessionId then
    local info = update.session or update
    if info.name then
      s.active.name = info.name
    end
  end
  require("agent_ls.status").on_update(client_id, params)
  require("agent_ls.chat").on_update(client_id, params)
  if kind == "checkpoint" then
    local cp = update.checkpoint or update
    if cp.checkpointId then
      s.last_checkpoint = cp.checkpointId
    end
  end
  state.emit("Update", { client_id = client_id, params = params })
end

return M
