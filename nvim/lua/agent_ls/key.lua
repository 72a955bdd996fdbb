-- The API key: from `api_key_cmd` (a password manager, …) or :AgentSetKey, passed to the server
-- in its environment at spawn (ANTHROPIC_API_KEY), never on its command line; kept in this Neovim
-- only. :AgentSetKey restarts the server with the new key.
local config = require("agent_ls.config")
local util = require("agent_ls.util")

local M = {}

local key -- the key for the next server start (nil: the environment Neovim started with)
local cmd_ran = false

--- Runs `api_key_cmd` (a list, or a string for the shell); its trimmed stdout is the key.
local function run_key_cmd(cmd)
  local argv = type(cmd) == "table" and cmd or { vim.o.shell, vim.o.shellcmdflag, cmd }
  local ok, res = pcall(function()
    return vim.system(argv, { text = true }):wait(30000)
  end)
  if not ok or res.code ~= 0 or vim.trim(res.stdout or "") == "" then
    local why = not ok and tostring(res) or (res.code ~= 0 and vim.trim(res.stderr or "") or "it printed nothing")
    util.error("api_key_cmd failed (" .. why .. "): fix the command in setup() or use :AgentSetKey")
    return nil
  end
  return vim.trim(res.stdout)
end

--- The key to start the server with, or nil to leave the environment as it is.
function M.get()
  local cmd = config.options.api_key_cmd
  if not key and cmd and not cmd_ran then
    cmd_ran = true
    key = run_key_cmd(cmd)
  end
  return key
end

--- Whether :AgentSetKey gave a key (the server command then passes it).
function M.is_set()
  return key ~= nil
end

--- The server's environment: `cmd_env` and the key.
function M.env()
  local env = vim.deepcopy(config.options.cmd_env or {})
  local k = M.get()
  if k then
    env.ANTHROPIC_API_KEY = k
  end
  return env
end

--- :AgentSetKey [!]: asks for the key (hidden input); an empty answer runs `api_key_cmd` again.
--- Then restarts the server with it.
function M.set_interactive()
  local ok, typed = pcall(vim.fn.inputsecret, "Anthropic API key (empty: run api_key_cmd): ")
  if not ok then
    return
  end
  typed = vim.trim(typed or "")
  if typed ~= "" then
    key = typed
  elseif config.options.api_key_cmd then
    key = run_key_cmd(config.options.api_key_cmd)
    if not key then
      return
    end
  else
    util.warn("no key given (and no api_key_cmd in setup())")
    return
  end
  require("agent_ls.client").restart("with the new key")
end

return M
