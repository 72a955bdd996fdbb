-- Per-client state: the active session, the running turn, the last revert's undo checkpoint.
local M = {}

---@class agent_ls.ClientState
---@field active table|nil        SessionInfo of this client's active session
---@field running table|nil       {session_id, token, request_id, title, message, started}
---@field last_undo string|nil    undoCheckpointId of the last revert
---@field last_undo_scope string|nil  the scope that revert had (its undo uses it)
---@field last_checkpoint string|nil  checkpointId of the last turn that changed files

M.clients = {}

---@return agent_ls.ClientState
function M.get(client_id)
  local s = M.clients[client_id]
  if not s then
    s = {}
    M.clients[client_id] = s
  end
  return s
end

function M.forget(client_id)
  M.clients[client_id] = nil
end

--- Fires `User AgentLs<event>` autocmds (for statuslines, other plugins and the tests).
function M.emit(event, data)
  vim.api.nvim_exec_autocmds("User", {
    pattern = "AgentLs" .. event,
    modeline = false,
    data = data,
  })
end

return M
