-- agent_ls: a Claude coding agent in Neovim, through the agent-ls language server.
--
--   require("agent_ls").setup({ cmd = { "agent-ls" }, model = "…", keymaps = { … } })
--
-- See :help agent_ls.
local config = require("agent_ls.config")

local M = {}

local function sessions()
  return require("agent_ls.sessions")
end
local function chat()
  return require("agent_ls.chat")
end
local function turn()
  return require("agent_ls.turn")
end
local function checkpoints()
  return require("agent_ls.checkpoints")
end
local function client()
  return require("agent_ls.client")
end

--- :AgentModel [name]: the model for the next turns (the server restarts with it; the active
--- session stays). Without a name, pick one of `models` with vim.ui.select (or type one).
function M.model(name)
  local function use(choice)
    if not choice or vim.trim(choice) == "" then
      return
    end
    config.options.model = vim.trim(choice)
    client().restart("with model " .. config.options.model)
  end
  if name and vim.trim(name) ~= "" then
    use(name)
    return
  end
  local models = vim.deepcopy(config.options.models or {})
  if #models == 0 then
    vim.ui.input({ prompt = "Model: ", default = config.options.model or "" }, use)
    return
  end
  if config.options.model and not vim.tbl_contains(models, config.options.model) then
    table.insert(models, 1, config.options.model)
  end
  vim.ui.select(models, {
    prompt = "Model (now: " .. (config.options.model or "the server's default") .. ")",
    kind = "agent_ls_model",
  }, use)
end

--- :AgentNew [name]
function M.new(name, cb)
  sessions().new(name, cb)
end

--- :AgentSessions [tag…] (a picker; only sessions with those tags); :AgentSessions! opens the
--- session list buffer.
function M.sessions(opts)
  if opts and opts.list then
    sessions().open_list()
  else
    sessions().pick(opts and opts.on_switch, opts and opts.tags)
  end
end

--- :AgentSearch[!] [query]: full-text search over the sessions (! every workspace).
function M.search(query, all, cb)
  require("agent_ls.search").search(query, all, cb)
end

--- :AgentExport [format] [path]; :AgentExport! [format] opens it in a buffer.
function M.export(format, path, to_buffer, cb)
  require("agent_ls.carry").export(format, path, to_buffer, cb)
end

--- :AgentImport BUNDLE | --from claude-code|pi|codex [PATH] [--all]
function M.import(args, cb)
  require("agent_ls.carry").import(args, cb)
end

--- :AgentTag[!] [tag…]: add tags to the active session (! removes them; none: edit them).
function M.tag(tags, remove, cb)
  sessions().tag(tags, remove, cb)
end

function M.switch(session_id, cb)
  sessions().switch(session_id, cb)
end

--- Opens the chat (with the active session, resuming or creating one when there is none).
function M.chat()
  client().with_client(function(c)
    turn().ensure_session(c, function()
      chat().open(c.id)
    end)
  end)
end

--- Shows the chat in a window without leaving the current one.
local function show_chat(client_id)
  local o = config.options.chat or {}
  if o.open_on_prompt == false then
    return
  end
  local ch = chat().get(client_id)
  if ch and #vim.fn.win_findbuf(ch.buf) > 0 then
    return
  end
  local win = vim.api.nvim_get_current_win()
  chat().open(client_id)
  if vim.api.nvim_win_is_valid(win) then
    vim.api.nvim_set_current_win(win)
  end
end

--- Sends a prompt; opts.context = { {uri, range?}, … }.
function M.prompt(text, opts)
  opts = opts or {}
  local function send(t)
    if not t or vim.trim(t) == "" then
      return
    end
    local from_chat = vim.b.agent_ls_client ~= nil
    local c = client().current()
    local named, problems = require("agent_ls.context").extract(t, c and c.offset_encoding)
    if #problems > 0 then
      require("agent_ls.util").warn(table.concat(problems, "; "))
      return
    end
    local context = vim.list_extend(vim.deepcopy(opts.context or {}), named)
    turn().prompt(t, {
      context = context,
      on_start = function(client_id)
        if not from_chat then
          show_chat(client_id)
        end
      end,
    })
  end
  if text and vim.trim(text) ~= "" then
    send(text)
  else
    vim.ui.input({ prompt = opts.context and "Agent (with selection): " or "Agent: " }, send)
  end
end

--- :AgentAdd [path]: a context line in the chat's prompt area: lines `line1`..`line2` of the
--- current file (a range), the whole file (no range), or `path`. Sent with the next prompt.
function M.add(path, line1, line2)
  local context = require("agent_ls.context")
  local util = require("agent_ls.util")
  local ref
  if path and vim.trim(path) ~= "" then
    ref = "@" .. vim.trim(path):gsub("^@", "")
  else
    local buf = vim.api.nvim_get_current_buf()
    if vim.bo[buf].buftype ~= "" or vim.api.nvim_buf_get_name(buf) == "" then
      buf = context.last_buf
    end
    if not (buf and vim.api.nvim_buf_is_valid(buf)) then
      util.warn("no file to add: open one, or :AgentAdd path")
      return
    end
    ref = context.ref(buf, line1, line2)
  end
  local _, problems = context.extract(ref)
  if #problems > 0 then
    util.warn(table.concat(problems, "; "))
    return
  end
  client().with_client(function(c)
    turn().ensure_session(c, function()
      chat().add_context(c.id, ref)
      show_chat(c.id)
      require("agent_ls.state").emit("ContextAdded", { client_id = c.id, ref = ref })
    end)
  end)
end

function M.cancel()
  return turn().cancel()
end

function M.checkpoints()
  checkpoints().pick()
end

function M.permissions()
  require("agent_ls.permission").manage()
end

function M.diff(checkpoint_id, uri)
  checkpoints().diff(checkpoint_id, uri)
end

function M.revert(checkpoint_id, scope, cb)
  checkpoints().revert(checkpoint_id, scope, cb)
end

--- :AgentRewind [scope]: back to before one of your messages (picked), conversation and/or
--- files; `entry_id` skips the picker.
function M.rewind(entry_id, scope, cb)
  require("agent_ls.rewind").rewind(entry_id, scope, cb)
end

--- :AgentRetry: the last turn's prompt again, when that turn failed or was cancelled.
function M.retry()
  turn().retry()
end

function M.rename(name, cb)
  sessions().rename(name, cb)
end

function M.fork(entry_id, cb)
  sessions().fork(entry_id, cb)
end

function M.delete(session_id, cb, opts)
  sessions().delete(session_id, cb, opts)
end

--- Statusline component: "⠋ agent: <what it does>" while a turn runs, "" otherwise; with
--- { usage = true } also the model and token usage ("claude-… · 12.3k tokens (6%)").
---   vim.o.statusline = "%f %= %{v:lua.require'agent_ls'.status()}"
function M.status(opts)
  return require("agent_ls.status").status(nil, opts)
end

--- The active session (SessionInfo) of the current client, or nil.
function M.session()
  local c = client().current()
  local s = c and require("agent_ls.state").clients[c.id]
  return s and s.active or nil
end

local function prompt_command(args)
  local opts = {}
  if args.range > 0 then
    local buf = vim.api.nvim_get_current_buf()
    if vim.bo[buf].buftype == "" and vim.api.nvim_buf_get_name(buf) ~= "" then
      local s = vim.api.nvim_buf_get_mark(buf, "<")
      local e = vim.api.nvim_buf_get_mark(buf, ">")
      local charwise = vim.fn.visualmode() == "v" and s[1] == args.line1 and e[1] == args.line2
      local c = client().current()
      local encoding = c and c.offset_encoding or "utf-16"
      opts.context = {
        turn().range_context(buf, args.line1, args.line2, not charwise, encoding),
      }
    end
  end
  M.prompt(args.args, opts)
end

local function create_commands()
  local cmd = vim.api.nvim_create_user_command
  cmd("AgentNew", function(a)
    M.new(a.args)
  end, { nargs = "?", desc = "agent_ls: new session [name]" })
  cmd("AgentSessions", function(a)
    local tags = vim.tbl_map(function(t)
      return (t:gsub("^#", ""))
    end, a.fargs)
    M.sessions({ list = a.bang, tags = tags })
  end, { bang = true, nargs = "*", desc = "agent_ls: pick a session [with these tags] (! opens the session list)" })
  cmd("AgentSearch", function(a)
    M.search(a.args, a.bang)
  end, { bang = true, nargs = "*", desc = "agent_ls: search the sessions' text (! every workspace)" })
  cmd("AgentExport", function(a)
    M.export(a.fargs[1], a.fargs[2], a.bang)
  end, {
    bang = true,
    nargs = "*",
    desc = "agent_ls: export the session [markdown|html|jsonl|bundle] [path] (! into a buffer)",
    complete = function(arglead, line)
      if #vim.split(vim.trim(line), "%s+") >= 2 and line:match("%s%S+%s") then
        return vim.fn.getcompletion(arglead, "file")
      end
      return vim.tbl_filter(function(x)
        return x:sub(1, #arglead) == arglead
      end, { "markdown", "html", "jsonl", "bundle" })
    end,
  })
  cmd("AgentImport", function(a)
    M.import(a.fargs)
  end, {
    nargs = "+",
    desc = "agent_ls: import sessions: BUNDLE, or --from claude-code|pi|codex [PATH] [--all]",
    complete = function(arglead, line)
      if line:match("%-%-from%s+$") then
        return require("agent_ls.carry").SOURCES
      end
      if arglead:match("^%-") then
        return vim.tbl_filter(function(x)
          return x:sub(1, #arglead) == arglead
        end, { "--from", "--all" })
      end
      return vim.fn.getcompletion(arglead, "file")
    end,
  })
  cmd("AgentTag", function(a)
    M.tag(a.fargs, a.bang)
  end, { bang = true, nargs = "*", desc = "agent_ls: tag the active session (! removes the tags; none: edit them)" })
  cmd("AgentPrompt", prompt_command, {
    nargs = "*",
    range = true,
    desc = "agent_ls: send a prompt (a range is sent as context)",
  })
  cmd("AgentAdd", function(a)
    if a.range > 0 then
      M.add(a.args, a.line1, a.line2)
    else
      M.add(a.args)
    end
  end, {
    nargs = "?",
    range = true,
    complete = "file",
    desc = "agent_ls: add the file, its selected lines or [path] to the chat's prompt as context",
  })
  cmd("AgentChat", function()
    M.chat()
  end, { desc = "agent_ls: open the chat" })
  cmd("AgentCancel", function()
    M.cancel()
  end, { desc = "agent_ls: cancel the running turn" })
  cmd("AgentCheckpoints", function()
    M.checkpoints()
  end, { desc = "agent_ls: list checkpoints; the chosen one opens as a diff" })
  cmd("AgentPermissions", function()
    M.permissions()
  end, { desc = "agent_ls: list remembered permissions; the chosen one is revoked" })
  cmd("AgentRevert", function(a)
    local checkpoint, scope = a.fargs[1], a.fargs[2]
    if checkpoint == "files" or checkpoint == "conversation" or checkpoint == "both" then
      checkpoint, scope = nil, checkpoint
    end
    M.revert(checkpoint, scope)
  end, {
    nargs = "*",
    desc = "agent_ls: revert a checkpoint [id|undo] [files|conversation|both]",
    complete = function(arglead, line)
      local n = #vim.split(vim.trim(line), "%s+")
      if n >= 3 or (n == 2 and line:match("%s$")) then
        return vim.tbl_filter(function(x)
          return x:sub(1, #arglead) == arglead
        end, { "files", "conversation", "both" })
      end
      return require("agent_ls.checkpoints").complete(arglead)
    end,
  })
  cmd("AgentRewind", function(a)
    M.rewind(nil, a.args ~= "" and a.args or nil)
  end, {
    nargs = "?",
    desc = "agent_ls: rewind to before one of your messages [both|conversation|files]",
    complete = function(arglead)
      return vim.tbl_filter(function(x)
        return x:sub(1, #arglead) == arglead
      end, { "both", "conversation", "files" })
    end,
  })
  cmd("AgentRetry", function()
    M.retry()
  end, { desc = "agent_ls: send the last prompt again after a failed or cancelled turn" })
  cmd("AgentModel", function(a)
    M.model(a.args)
  end, {
    nargs = "?",
    desc = "agent_ls: the model for the next turns (restarts the server, keeps the session)",
    complete = function(arglead)
      return vim.tbl_filter(function(m)
        return m:sub(1, #arglead) == arglead
      end, config.options.models or {})
    end,
  })
  cmd("AgentSetKey", function()
    require("agent_ls.key").set_interactive()
  end, { desc = "agent_ls: set the API key (hidden input, or api_key_cmd) and restart the server" })
  cmd("AgentWrite", function()
    require("agent_ls.edits").write_pending()
  end, { desc = "agent_ls: write the buffers holding agent edits not yet on disk" })
  cmd("AgentRename", function(a)
    M.rename(a.args)
  end, { nargs = "*", desc = "agent_ls: rename the active session" })
  cmd("AgentFork", function(a)
    M.fork(a.args)
  end, { nargs = "?", desc = "agent_ls: fork the active session [at entry]" })
  cmd("AgentDelete", function(a)
    M.delete(a.args ~= "" and a.args or nil, nil, { force = a.bang })
  end, { nargs = "?", bang = true, desc = "agent_ls: delete a session (asks first; ! does not)" })
end

local function create_keymaps()
  local k = config.options.keymaps or {}
  local function map(mode, lhs, rhs, desc)
    if lhs then
      vim.keymap.set(mode, lhs, rhs, { desc = "agent_ls: " .. desc, silent = true })
    end
  end
  map("n", k.prompt, "<cmd>AgentPrompt<cr>", "prompt")
  map("x", k.prompt, ":AgentPrompt<cr>", "prompt with the selection")
  map("n", k.add, "<cmd>AgentAdd<cr>", "add the file to the chat's context")
  map("x", k.add, ":AgentAdd<cr>", "add the selected lines to the chat's context")
  map("n", k.chat, "<cmd>AgentChat<cr>", "chat")
  map("n", k.sessions, "<cmd>AgentSessions<cr>", "sessions")
  map("n", k.new, "<cmd>AgentNew<cr>", "new session")
  map("n", k.cancel, "<cmd>AgentCancel<cr>", "cancel")
  map("n", k.checkpoints, "<cmd>AgentCheckpoints<cr>", "checkpoints")
  map("n", k.revert, "<cmd>AgentRevert<cr>", "revert the last turn")
end

--- Generates doc/tags when it is missing or older than the help file (an install that did not
--- ship it, or a read-only one: then `:helptags ALL` in a writable copy is the way).
local function ensure_helptags()
  local doc = vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h:h:h") .. "/doc"
  local help, tags = vim.uv.fs_stat(doc .. "/agent_ls.txt"), vim.uv.fs_stat(doc .. "/tags")
  if help and (not tags or tags.mtime.sec < help.mtime.sec) and vim.fn.filewritable(doc) == 2 then
    pcall(vim.cmd.helptags, vim.fn.fnameescape(doc))
  end
end

function M.setup(opts)
  if vim.fn.has("nvim-0.10") == 0 then
    vim.notify("agent_ls needs Neovim 0.10 or later", vim.log.levels.ERROR)
    return
  end
  config.set(opts)
  ensure_helptags()
  create_commands()
  create_keymaps()
  local group = vim.api.nvim_create_augroup("agent_ls", { clear = true })
  vim.api.nvim_create_autocmd("BufEnter", {
    group = group,
    callback = function(args)
      require("agent_ls.context").track(args.buf)
    end,
  })
  require("agent_ls.context").track(vim.api.nvim_get_current_buf())
  require("agent_ls.completion").register_cmp()
  vim.api.nvim_create_autocmd("LspProgress", {
    group = group,
    callback = function(args)
      require("agent_ls.status").on_progress(args)
    end,
  })
  client().register()
end

return M
