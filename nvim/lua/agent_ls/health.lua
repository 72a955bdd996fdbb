-- :checkhealth agent_ls — Neovim version, the server command and its version, the API key.
local M = {}

local function version_of(cmd, env)
  if vim.fn.executable(cmd[1]) == 0 then
    return nil, cmd[1] .. " is not executable"
  end
  local argv = vim.list_extend(vim.deepcopy(cmd), { "--version" })
  local ok, proc = pcall(vim.system, argv, { text = true, env = env })
  if not ok then
    return nil, tostring(proc)
  end
  local res = proc:wait(15000)
  if res.code ~= 0 then
    local err = vim.trim((res.stderr or "") .. (res.stdout or ""))
    return nil, string.format("`%s` exited with %s: %s", table.concat(argv, " "), res.code, err)
  end
  return vim.trim(res.stdout ~= "" and res.stdout or res.stderr or "")
end

function M.check()
  local h = vim.health
  local config = require("agent_ls.config")
  h.start("agent_ls")

  local v = vim.version()
  local vs = string.format("%d.%d.%d", v.major, v.minor, v.patch)
  if vim.fn.has("nvim-0.11") == 1 then
    h.ok("Neovim " .. vs .. " (vim.lsp.config / vim.lsp.enable)")
  elseif vim.fn.has("nvim-0.10") == 1 then
    h.ok("Neovim " .. vs .. " (vim.lsp.start)")
  else
    h.error("Neovim " .. vs .. " is too old: agent_ls needs 0.10 or later")
  end

  if config.did_setup then
    h.ok('require("agent_ls").setup() was called')
  else
    h.warn('require("agent_ls").setup() was not called: no commands, and the server does not start')
  end

  local o = config.options
  local cmd = o.cmd
  if type(cmd) == "table" and #cmd > 0 then
    h.info("server command: " .. table.concat(cmd, " "))
    local version, err = version_of(cmd, o.cmd_env)
    if version then
      h.ok("server version: " .. version)
    else
      h.error("the server does not run: " .. err, {
        "Install it (pip install agent-ls) or set cmd in setup(), e.g. cmd = { '/path/to/.venv/bin/agent-ls' }",
      })
    end
  elseif type(cmd) == "function" then
    h.info("server command: a function (not checked)")
  else
    h.error("no server command (setup({ cmd = {...} }))")
  end

  local env = o.cmd_env or {}
  local key = env.ANTHROPIC_API_KEY or vim.env.ANTHROPIC_API_KEY
  local base = env.ANTHROPIC_BASE_URL or vim.env.ANTHROPIC_BASE_URL
  if require("agent_ls.key").is_set() then
    h.ok("the API key was set with :AgentSetKey")
  elseif o.api_key_cmd then
    h.ok("the API key comes from api_key_cmd (run when the server starts)")
  elseif key and key ~= "" then
    h.ok("ANTHROPIC_API_KEY is set")
  elseif base and base ~= "" then
    h.warn("ANTHROPIC_API_KEY is not set; a local server at ANTHROPIC_BASE_URL takes any dummy key")
  else
    h.warn("ANTHROPIC_API_KEY is not set: prompts will fail", {
      "export ANTHROPIC_API_KEY=… before starting Neovim, set api_key_cmd in setup(), or run :AgentSetKey",
    })
  end
  if base and base ~= "" then
    h.info("ANTHROPIC_BASE_URL: " .. base)
  end
  h.info("model: " .. (o.model or "the server's default"))

  local clients = require("agent_ls.client").clients()
  if #clients == 0 then
    h.info("no agent_ls client is running (it starts with the first file opened)")
  end
  for _, c in ipairs(clients) do
    local info = c.server_info or {}
    local s = require("agent_ls.state").clients[c.id] or {}
    h.ok(string.format(
      "client %d: %s %s, root %s%s",
      c.id,
      info.name or "agent-ls",
      info.version or "",
      require("agent_ls.client").client_root(c) or "?",
      s.active and (", session " .. s.active.sessionId) or ""
    ))
  end
end

return M
