-- Sessions: new, list (vim.ui.select), switch, rename, fork, delete, the list buffer and
-- agent/session/listChanged.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

local ws = H.workspace("sessions_ws", { ["main.py"] = "x = 1\n" })
vim.cmd.cd(ws)
H.setup({ resume_recent = false })
vim.cmd.edit(ws .. "/main.py")
local changed = H.events("SessionChanged")

local function active()
  return H.state().active
end

H.test(":AgentNew creates a session that becomes active, shown in the chat", function()
  local n = #changed
  vim.cmd("AgentNew first")
  H.wait_for(function()
    return #changed > n
  end, "the new session")
  local info = active()
  H.eq(info.name, "first", "name")
  H.truthy(info.sessionId:match("^[A-Za-z0-9_-]+$"), "session id")
  H.eq(H.lines(H.chat_buf())[1], "# first", "chat title")
end)

H.test(":AgentNew without a name, then a second named one", function()
  local n = #changed
  vim.cmd("AgentNew")
  H.wait_for(function()
    return #changed > n
  end, "the unnamed session")
  H.eq(active().name, nil, "no name")
  vim.cmd("AgentNew second")
  H.wait_for(function()
    return #changed > n + 1
  end, "the second session")
  H.eq(active().name, "second", "name")
end)

H.test(":AgentSessions lists name / first message / age and switches to the choice", function()
  local n = #changed
  H.answer_select(function(items)
    for _, info in ipairs(items) do
      if info.name == "first" then
        return info
      end
    end
  end)
  vim.cmd("AgentSessions")
  H.wait_for(function()
    return #changed > n
  end, "the switch")
  local call = H.selects[#H.selects]
  H.eq(call.kind, "agent_ls_session", "select kind")
  H.eq(#call.items, 3, "three sessions listed")
  H.contains(call.shown[1], "second", "newest first")
  H.contains(call.shown[1], "just now", "age")
  H.contains(call.shown[1], "│", "columns")
  H.contains(table.concat(call.shown, "\n"), "(unnamed)", "the unnamed session")
  H.eq(active().name, "first", "switched")
  H.eq(H.lines(H.chat_buf())[1], "# first", "chat title after the switch")
end)

H.test("switching shows the session's transcript in the chat", function()
  -- A prompt in "first" (the fake API echoes it), then away and back.
  local turns = #H.turn_ends
  vim.cmd("AgentPrompt remember the word pelican")
  H.wait_turn(turns + 1)
  H.contains(H.chat_text(), "Echo: remember the word pelican", "chat")
  local first_id = active().sessionId
  local n = #changed
  vim.cmd("AgentNew third")
  H.wait_for(function()
    return #changed > n
  end, "the third session")
  H.not_contains(H.chat_text(), "pelican", "a new session's chat")
  require("agent_ls").switch(first_id)
  H.wait_for(function()
    return #changed > n + 1
  end, "the switch back")
  local text = H.chat_text()
  H.contains(text, "## You\n```text\nremember the word pelican\n```", "the user's message")
  H.contains(text, "## Agent\nEcho: remember the word pelican", "the reply")
end)

H.test(":AgentRename renames the active session", function()
  local id = active().sessionId
  vim.cmd("AgentRename birds and words")
  H.wait_for(function()
    return active().name == "birds and words"
  end, "the rename")
  H.eq(active().sessionId, id, "same session")
  H.eq(H.lines(H.chat_buf())[1], "# birds and words", "chat title")
end)

H.test(":AgentRename without a name asks for one", function()
  H.answer_input("asked name")
  vim.cmd("AgentRename")
  H.wait_for(function()
    return active().name == "asked name"
  end, "the rename")
  H.eq(H.inputs[#H.inputs].default, "birds and words", "the current name is the default")
end)

H.test(":AgentFork forks the active session and switches to the fork", function()
  local parent = active().sessionId
  local n = #changed
  vim.cmd("AgentFork")
  H.wait_for(function()
    return #changed > n and active().sessionId ~= parent
  end, "the fork")
  H.eq(active().parentSessionId, parent, "parentSessionId")
  H.contains(H.chat_text(), "Echo: remember the word pelican", "the fork holds the conversation")
end)

H.test(":AgentDelete asks first; Cancel keeps the session, Delete removes it", function()
  local id = active().sessionId
  H.answer_select(function()
    return "Cancel"
  end)
  vim.cmd("AgentDelete")
  H.wait_for(function()
    return H.selects[#H.selects].choice == "Cancel"
  end, "the confirmation")
  H.contains(H.selects[#H.selects].prompt, "Delete session", "confirmation prompt")
  H.sleep(100)
  H.eq(active().sessionId, id, "still active")

  local n = #changed
  H.answer_select(function()
    return "Delete"
  end)
  vim.cmd("AgentDelete")
  H.wait_for(function()
    return #changed > n
  end, "the deletion")
  H.eq(active(), nil, "no active session")
  local c = H.client()
  local res = c:request_sync("agent/session/list", { limit = 100 }, 5000)
  for _, info in ipairs(res.result.sessions) do
    if info.sessionId == id then
      H.fail("the deleted session is still listed")
    end
  end
end)

H.test(":AgentSessions! opens a list that refreshes on agent/session/listChanged", function()
  local rendered = H.events("SessionListRendered")
  local list_changed = H.events("ListChanged")
  vim.cmd("AgentSessions!")
  H.wait_for(function()
    return #rendered > 0
  end, "the list")
  local buf = vim.api.nvim_get_current_buf()
  H.eq(vim.bo[buf].filetype, "agent_ls_sessions", "list buffer")
  H.contains(H.text(buf), "second", "list")
  -- Another process writes to the store: the server notices and sends listChanged.
  local c = H.client()
  local res = c:request_sync("agent/session/list", { limit = 100 }, 5000)
  local target
  for _, info in ipairs(res.result.sessions) do
    if info.name == "second" then
      target = info.sessionId
    end
  end
  H.truthy(target, "session 'second'")
  local cli = vim.system({
    H.python,
    "-m",
    "agent_ls",
    "sessions",
    "rename",
    target,
    "renamed elsewhere",
    "--workspace",
    ws,
  }, { text = true }):wait(20000)
  H.eq(cli.code, 0, "agent-ls sessions rename: " .. (cli.stderr or ""))
  H.wait_for(function()
    return #list_changed > 0
  end, "agent/session/listChanged", 10000)
  H.wait_for(function()
    return H.text(buf):find("renamed elsewhere", 1, true)
  end, "the list to show the new name")
  vim.cmd.close()
end)

H.test("the chat shows a turn another client added to the session it shows", function()
  local n = #changed
  vim.cmd("AgentNew shared")
  H.wait_for(function()
    return #changed > n
  end, "the session")
  local id = active().sessionId
  local refreshed = H.events("SessionRefreshed")
  local cli = vim.system({ H.python, "-m", "agent_ls", "chat", "--workspace", ws, "--session", id }, {
    text = true,
    stdin = "hello from the terminal\n",
  }):wait(30000)
  H.eq(cli.code, 0, "agent-ls chat: " .. (cli.stderr or ""))
  H.wait_for(function()
    return #refreshed > 0
  end, "the chat to refresh", 15000)
  local text = H.chat_text()
  H.contains(text, "```text\nhello from the terminal\n```", "the other client's prompt")
  H.contains(text, "Echo: hello from the terminal", "its reply")
  H.eq(active().sessionId, id, "still the same session")
end)

H.run()
