-- setup(): commands, the client (root, initializationOptions, capabilities), :checkhealth.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

local ws = H.workspace("setup_ws", { ["src/app.py"] = "print('hi')\n" })
local loose = vim.fn.resolve(H.tmp .. "/setup_loose")
vim.fn.mkdir(loose, "p")
H.write(loose .. "/notes.txt", "no markers here\n")

H.test("the shipped doc/tags is what :helptags makes of the help file", function()
  local copy = H.tmp .. "/doc_copy"
  H.write(copy .. "/agent_ls.txt", H.read(H.nvim_dir .. "/doc/agent_ls.txt"))
  vim.cmd.helptags(vim.fn.fnameescape(copy))
  H.eq(H.read(H.nvim_dir .. "/doc/tags"), H.read(copy .. "/tags"), "doc/tags (regenerate with :helptags nvim/doc)")
end)

H.test(":help agent_ls works after rtp:append, before setup()", function()
  local res = vim.system({
    vim.v.progpath,
    "--headless",
    "-u",
    "NONE",
    "-i",
    "NONE",
    "--cmd",
    "set rtp+=" .. vim.fn.fnameescape(H.nvim_dir),
    "-c",
    "help agent_ls",
    "-c",
    "lua io.stdout:write(vim.fn.expand('%:t') .. ':' .. vim.fn.getline('.'))",
    "-c",
    "qa!",
  }, { text = true }):wait(20000)
  H.eq(res.code, 0, "exit code (" .. tostring(res.stderr) .. ")")
  H.contains(res.stdout, "agent_ls.txt:", "the help file opened")
  H.contains(res.stdout, "*agent_ls*", "at the agent_ls tag")
end)

H.test("setup defines the commands", function()
  vim.cmd.cd(ws)
  H.setup({ permission_policy = { execute = "ask", edit = "allow" } })
  for _, name in ipairs({
    "AgentNew",
    "AgentSessions",
    "AgentPrompt",
    "AgentChat",
    "AgentCancel",
    "AgentCheckpoints",
    "AgentRevert",
    "AgentRename",
    "AgentFork",
    "AgentDelete",
    "AgentWrite",
    "AgentModel",
    "AgentSetKey",
    "AgentAdd",
    "AgentRewind",
    "AgentRetry",
    "AgentSearch",
    "AgentTag",
    "AgentExport",
    "AgentImport",
  }) do
    H.eq(vim.fn.exists(":" .. name), 2, ":" .. name)
  end
  H.truthy(vim.lsp.config["agent_ls"], "vim.lsp.config.agent_ls")
  H.truthy(vim.lsp.is_enabled("agent_ls"), "vim.lsp.enable('agent_ls')")
end)

H.test("opening a file starts the server at the root found by the markers", function()
  vim.cmd.edit(ws .. "/src/app.py")
  local c = H.client()
  H.eq(c.name, "agent_ls", "client name")
  H.eq(c.root_dir, ws, "root_dir")
  H.truthy(vim.lsp.buf_is_attached(0, c.id), "the file buffer is attached")
end)

H.test("initializationOptions carry model, permissionPolicy and permissionUi", function()
  local c = H.client()
  local init = c.config.init_options
  H.eq(init.model, "fake-model", "model")
  H.eq(init.permissionPolicy, { execute = "ask", edit = "allow" }, "permissionPolicy")
  H.eq(init.permissions, nil, "one name per option: no second copy of the policy")
  H.eq(init.permissionUi, true, "permissionUi")
end)

H.test("the server advertises the agent capabilities", function()
  local c = H.client()
  local agent = vim.tbl_get(c.server_capabilities or {}, "experimental", "agent")
  H.truthy(agent, "capabilities.experimental.agent")
  H.truthy(agent.version, "agent.version")
end)

H.test("the root falls back to the cwd when no marker is found", function()
  local client = require("agent_ls.client")
  vim.cmd.cd(loose)
  vim.cmd.edit(loose .. "/notes.txt")
  H.eq(client.root_dir(0), loose, "root of a file with no marker above it")
  vim.cmd.cd(ws)
  H.eq(client.root_dir(0), ws, "root from the cwd's markers when the file has none")
  vim.cmd.edit(ws .. "/src/app.py")
  H.eq(client.root_dir(0), ws, "root from the file's markers")
end)

H.test("status() is empty while no turn runs", function()
  H.eq(require("agent_ls").status(), "", "status")
end)

H.test(":checkhealth agent_ls reports the command, its version and the API key", function()
  vim.cmd("silent checkhealth agent_ls")
  local text = H.text(0)
  H.contains(text, "server command: " .. H.python .. " -m agent_ls", "health")
  H.contains(text, "server version: ", "health")
  H.contains(text, "ANTHROPIC_API_KEY is set", "health")
  H.not_contains(text, "ERROR", "health")
  vim.cmd.tabclose()
end)

H.test("after a server restart, :AgentChat resumes the most recent session", function()
  local turns = #H.turn_ends
  vim.cmd("AgentPrompt remember me")
  H.wait_turn(turns + 1)
  local id = require("agent_ls").session().sessionId
  local old = H.client()
  local chat_buf = H.chat_buf()
  old:stop()
  H.wait_for(function()
    return old:is_stopped()
  end, "the server to stop")
  H.wait_for(function()
    return require("agent_ls.state").clients[old.id] == nil
  end, "the client state to clear")
  vim.cmd("AgentChat")
  H.wait_for(function()
    local info = require("agent_ls").session()
    return info and info.sessionId == id
  end, "the resumed session", 20000)
  H.truthy(H.client().id ~= old.id, "a new client")
  H.contains(H.chat_text(), "Echo: remember me", "the transcript after the restart")
  H.eq(H.chat_buf(), chat_buf, "the same chat buffer")
  H.eq(vim.api.nvim_buf_get_name(chat_buf), "agent-ls://chat", "its name")
end)

H.run()
