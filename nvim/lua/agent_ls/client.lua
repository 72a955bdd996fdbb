-- The LSP wiring: config, start (vim.lsp.config/enable on 0.11+, vim.lsp.start on 0.10), the
-- handlers for the server's custom notifications and requests, and request helpers.
local config = require("agent_ls.config")
local state = require("agent_ls.state")
local util = require("agent_ls.util")

local M = {}

M.name = "agent_ls"

local has011 = vim.fn.has("nvim-0.11") == 1
local waiting = {} -- client id → callbacks to run once the client is initialized
local augroup = vim.api.nvim_create_augroup("agent_ls.client", { clear = true })

--- The workspace root for a buffer: the nearest folder with a root marker, else the cwd.
function M.root_dir(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local markers = config.options.root_markers or {}
  local root
  local name = vim.api.nvim_buf_is_valid(bufnr) and vim.api.nvim_buf_get_name(bufnr) or ""
  if name ~= "" and vim.bo[bufnr].buftype == "" and #markers > 0 then
    root = vim.fs.root(bufnr, markers)
  end
  if not root and #markers > 0 then
    root = vim.fs.root(vim.fn.getcwd(), markers)
  end
  return root or vim.fn.getcwd()
end

function M.init_options()
  local o = config.options
  return {
    model = o.model,
    provider = o.provider,
    sessionDir = o.session_dir,
    -- {[tool name or kind] = "ask" | "allow" | "deny"} over the server's defaults
    permissionPolicy = o.permission_policy,
    contextWindow = o.context_window,
    permissionUi = true,
  }
end

local function handlers()
  return {
    ["agent/session/update"] = function(_, params, ctx)
      require("agent_ls.events").on_update(ctx.client_id, params)
    end,
    ["agent/session/listChanged"] = function(_, _, ctx)
      require("agent_ls.sessions").on_list_changed(ctx.client_id)
    end,
    ["agent/session/requestPermission"] = function(_, params, ctx)
      return require("agent_ls.permission").handle(params, ctx)
    end,
    ["workspace/applyEdit"] = function(err, params, ctx)
      return require("agent_ls.edits").apply(err, params, ctx)
    end,
  }
end

local function on_init(client)
  local cbs = waiting[client.id] or {}
  waiting[client.id] = nil
  for _, cb in ipairs(cbs) do
    local ok, e = pcall(cb, client)
    if not ok then
      util.error(tostring(e))
    end
  end
end

local function on_exit(code, signal, client_id)
  waiting[client_id] = nil
  vim.schedule(function()
    local s = state.clients[client_id]
    if s and s.running then
      s.running = nil
      state.emit("TurnEnd", { client_id = client_id, result = { stopReason = "error" } })
    end
    state.forget(client_id)
    require("agent_ls.chat").detach(client_id)
    require("agent_ls.sessions").detach(client_id)
    state.emit("ClientExit", { client_id = client_id, code = code, signal = signal })
    if code ~= 0 and signal == 0 then
      util.warn(("the server exited with code %d (see :LspLog)"):format(code))
    end
    pcall(vim.cmd.redrawstatus)
  end)
end

--- The server command: the list from setup(), or, with a key to pass, a function that spawns it
--- with the key in its environment (read at each start, so a restart takes a new key).
local function server_cmd()
  local o = config.options
  if not o.api_key_cmd and not require("agent_ls.key").is_set() then
    return o.cmd
  end
  return function(dispatchers)
    return vim.lsp.rpc.start(o.cmd, dispatchers, { env = require("agent_ls.key").env() })
  end
end

--- The client configuration (root_dir left out: 0.11 takes a function, 0.10 a string).
function M.lsp_config()
  local o = config.options
  return {
    name = M.name,
    cmd = server_cmd(),
    cmd_env = o.cmd_env,
    filetypes = o.filetypes,
    init_options = M.init_options(),
    handlers = handlers(),
    on_init = on_init,
    on_exit = on_exit,
  }
end

local function attachable(bufnr)
  if not vim.api.nvim_buf_is_valid(bufnr) or vim.bo[bufnr].buftype ~= "" then
    return false
  end
  if vim.api.nvim_buf_get_name(bufnr) == "" then
    return false
  end
  local fts = config.options.filetypes
  return not fts or vim.tbl_contains(fts, vim.bo[bufnr].filetype)
end

--- The resolved config, with the user's own vim.lsp.config("agent_ls", …) overrides on 0.11.
local function resolved_config()
  if has011 then
    local cfg = vim.lsp.config[M.name]
    if cfg then
      return vim.deepcopy(cfg)
    end
  end
  return M.lsp_config()
end

--- Starts (or reuses) the client for `bufnr`'s workspace; attaches the buffer when it is a file.
function M.start(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local cfg = resolved_config()
  cfg.root_dir = M.root_dir(bufnr)
  cfg.root_markers = nil
  local id
  if has011 or attachable(bufnr) then
    id = vim.lsp.start(cfg, { bufnr = bufnr, attach = attachable(bufnr) })
  else
    -- 0.10's vim.lsp.start always attaches the buffer; a chat or empty buffer must not be.
    id = vim.lsp.start_client(cfg)
  end
  return id and vim.lsp.get_client_by_id(id) or nil
end

--- Registers the config; the server then starts with the first file buffer opened.
function M.register()
  vim.api.nvim_clear_autocmds({ group = augroup })
  if has011 and vim.lsp.config and vim.lsp.enable then
    local cfg = M.lsp_config()
    cfg.root_dir = function(bufnr, on_dir)
      on_dir(M.root_dir(bufnr))
    end
    vim.lsp.config(M.name, cfg)
    vim.lsp.enable(M.name)
    return
  end
  vim.api.nvim_create_autocmd("FileType", {
    group = augroup,
    callback = function(args)
      if attachable(args.buf) then
        M.start(args.buf)
      end
    end,
  })
  if vim.v.vim_did_enter == 1 then
    for _, buf in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(buf) and attachable(buf) then
        M.start(buf)
      end
    end
  end
end

local function running(c)
  return c and not util.call(c, "is_stopped")
end

function M.clients()
  local out = {}
  for _, c in ipairs(vim.lsp.get_clients({ name = M.name })) do
    if running(c) then
      out[#out + 1] = c
    end
  end
  return out
end

function M.client_root(c)
  return c.root_dir or (c.config and c.config.root_dir) or nil
end

--- The client for the current context, without starting one: the one a plugin buffer belongs to,
--- the one attached to the current buffer, the one for its workspace, else the only one running.
function M.current()
  local buf = vim.api.nvim_get_current_buf()
  local id = vim.b[buf].agent_ls_client
  if id then
    local c = vim.lsp.get_client_by_id(id)
    if running(c) then
      return c
    end
  end
  for _, c in ipairs(vim.lsp.get_clients({ name = M.name, bufnr = buf })) do
    if running(c) then
      return c
    end
  end
  local all = M.clients()
  local root = M.root_dir(buf)
  for _, c in ipairs(all) do
    if M.client_root(c) == root then
      return c
    end
  end
  return all[1]
end

--- Calls cb(client) once the client for the current context is initialized (starting it first).
function M.with_client(cb)
  local c = M.current() or M.start()
  if not c then
    util.error("could not start the server (" .. table.concat(config.options.cmd, " ") .. ")")
    return
  end
  if c.initialized then
    cb(c)
    return
  end
  waiting[c.id] = waiting[c.id] or {}
  table.insert(waiting[c.id], cb)
  -- on_init runs the callbacks; in case a user's vim.lsp.config replaced our on_init, poll too.
  local id, tries = c.id, 0
  local function poll()
    local list = waiting[id]
    if not list then
      return
    end
    local client = vim.lsp.get_client_by_id(id)
    if client and client.initialized then
      on_init(client)
    elseif client and tries < 600 then
      tries = tries + 1
      vim.defer_fn(poll, 50)
    else
      waiting[id] = nil
    end
  end
  vim.defer_fn(poll, 50)
end

--- Stops the running servers and starts them again (a new key: :AgentSetKey; a new model:
--- :AgentModel), re-attaching the file buffers and switching each back to the session it had
--- active. `why` ends the message shown when it is back.
function M.restart(why)
  if has011 then
    vim.lsp.config(M.name, { cmd = server_cmd(), init_options = M.init_options() })
  end
  local old = M.clients()
  local sessions = {}
  for _, c in ipairs(old) do
    local s = state.clients[c.id]
    sessions[M.client_root(c) or ""] = s and s.active and s.active.sessionId or nil
    util.call(c, "stop")
  end
  local function stopped()
    for _, c in ipairs(old) do
      if not util.call(c, "is_stopped") then
        return false
      end
    end
    return true
  end
  local tries = 0
  local function start_again()
    if not stopped() and tries < 100 then
      tries = tries + 1
      vim.defer_fn(start_again, 50)
      return
    end
    for _, buf in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(buf) and attachable(buf) then
        M.start(buf)
      end
    end
    M.with_client(function(c)
      local id = sessions[M.client_root(c) or ""]
      if id then
        require("agent_ls.sessions").switch(id)
      end
      util.notify("the server restarted " .. (why or ""))
      state.emit("Restarted", { client_id = c.id })
    end)
  end
  start_again()
end

--- Sends a request; cb(err, result) with JSON nulls as nil. Returns the request id.
function M.request(client, method, params, cb)
  local ok, id = util.call(client, "request", method, params, function(err, result)
    cb(util.nn(err), util.nn(result))
  end)
  if not ok then
    cb({ message = "the server is not running" }, nil)
    return nil
  end
  return id
end

function M.notify(client, method, params)
  return util.call(client, "notify", method, params)
end

--- A request whose errors are reported to the user; cb(result) only on success.
function M.call(client, method, params, cb)
  return M.request(client, method, params, function(err, result)
    if err then
      util.error(method .. ": " .. util.err_message(err))
      return
    end
    cb(result)
  end)
end

return M
