-- The API key: api_key_cmd's output reaches the server through its environment at spawn (never
-- its command line), and the server keeps it in memory only (its /proc environ no longer has
-- it); :AgentSetKey restarts the server with a new key and keeps the active session.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

local ws = H.workspace("key_ws", { ["a.txt"] = "a\n" })
vim.cmd.cd(ws)
vim.env.ANTHROPIC_API_KEY = nil -- the key must come from the plugin
H.setup({ resume_recent = false, api_key_cmd = { "printf", "key-from-cmd\n" } })
local restarted = H.events("Restarted")
local turns = 0

--- {cmdline, environ} of the running server process (a child of this Neovim).
local function server_process()
  for _, pid in ipairs(vim.api.nvim_get_proc_children(vim.fn.getpid())) do
    local cmdline = (H.read("/proc/" .. pid .. "/cmdline") or ""):gsub("%z", " ")
    if cmdline:find("agent_ls", 1, true) and H.client() then
      return { pid = pid, cmdline = cmdline, environ = (H.read("/proc/" .. pid .. "/environ") or ""):gsub("%z", "\n") }
    end
  end
end

--- The server sent `key` to the API on its last request, and no process can read it from its
--- environment or command line.
local function key_used(key)
  local reqs = H.api_requests()
  H.eq(reqs[#reqs].keyDigest, vim.fn.sha256(key), "the API got the key")
  local p = H.truthy(server_process(), "the server process")
  H.not_contains(p.environ, key, "not in the server's environment")
  H.not_contains(p.cmdline, key, "not on the command line")
end

local function prompt_ok(text)
  vim.cmd("AgentPrompt " .. text)
  turns = turns + 1
  local done = H.wait_turn(turns)
  H.eq(done.result.stopReason, "end_turn", "the turn ran (the server has a key): " .. vim.inspect(done.result))
end

H.test("api_key_cmd's output is the key the server uses, not on its command line", function()
  vim.cmd.edit(ws .. "/a.txt")
  H.client()
  prompt_ok("hello")
  key_used("key-from-cmd")
end)

H.test(":AgentSetKey restarts the server with the typed key and keeps the session", function()
  local session = H.state().active.sessionId
  local old_id = H.client().id
  local asked
  vim.fn.inputsecret = function(prompt)
    asked = prompt
    return "typed-key"
  end
  vim.cmd("AgentSetKey")
  H.wait_for(function()
    return #restarted > 0
  end, "the restart", 30000)
  H.contains(asked, "API key", "asked with hidden input")
  H.truthy(H.client().id ~= old_id, "a new client")
  H.wait_for(function()
    local s = H.state().active
    return s and s.sessionId == session
  end, "the same session active again")
  prompt_ok("after the restart")
  key_used("typed-key")
  H.contains(H.chat_text(), "Echo: hello", "the chat kept the earlier turn")
end)

H.test(":AgentModel restarts the server with the chosen model, same session", function()
  local session = H.state().active.sessionId
  local n = #restarted
  H.answer_select(function(items)
    H.eq(items[1], "fake-model", "the current model first")
    return "picked-model"
  end)
  require("agent_ls.config").options.models = { "picked-model" }
  vim.cmd("AgentModel")
  H.wait_for(function()
    return #restarted > n
  end, "the restart", 30000)
  H.wait_for(function()
    local s = H.state().active
    return s and s.sessionId == session
  end, "the same session active again")
  prompt_ok("which model")
  local reqs = H.api_requests()
  H.eq(reqs[#reqs].body.model, "picked-model", "the model the API was asked for")
  H.contains(require("agent_ls").status({ usage = true }), "picked-model", "status names it")
  key_used("typed-key") -- the key set before is kept
end)

H.run()
