-- Control over every turn, against the real server: :AgentRetry after a 529, edit and resend
-- (ge), :AgentRewind to the second of four messages with files (and its undo), a conflicting
-- rewind that writes nothing until the user picks, a merge that keeps the user's edit, command
-- output under the tool line, turn_end markers after a reload.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

local ws = H.workspace("rewind_ws", {
  ["README"] = "the files the agent changes are not open in buffers\n",
  ["a.txt"] = "one\n",
  ["b.txt"] = "alpha\nbeta\ngamma\ndelta\nepsilon\nzeta\neta\ntheta\n",
})
vim.cmd.cd(ws)
H.setup({ resume_recent = false, permission_policy = { execute = "allow" } })
vim.cmd.edit(ws .. "/README")
local changed = H.events("SessionChanged")
local rewound = H.events("Rewound")
local turns = 0

local function new_session(name)
  local n = #changed
  vim.cmd("AgentNew " .. name)
  H.wait_for(function()
    return #changed > n
  end, "session " .. name)
end

--- A prompt from the chat's prompt area; waits for its turn to end.
local function send(text)
  local c = H.client()
  require("agent_ls.chat").set_input(c.id, text)
  require("agent_ls.chat").send(c.id)
  turns = turns + 1
  return H.wait_turn(turns)
end

--- A turn that writes `path` with `text`.
local function write_turn(prompt, path, text)
  H.script({
    { content = { { type = "tool_use", name = "write_file", input = { path = path, content = text } } } },
    { content = { { type = "text", text = "Wrote " .. path .. "." } } },
  })
  local done = send(prompt)
  H.eq(done.err, nil, "prompt error")
  H.eq(done.result.stopReason, "end_turn", "stopReason")
end

--- The user-message texts the fake API received in its last request.
local function last_request_prompts()
  local reqs = H.api_requests()
  local out = {}
  for _, m in ipairs(reqs[#reqs].body.messages) do
    if m.role == "user" then
      local content = type(m.content) == "string" and { { type = "text", text = m.content } } or m.content
      for _, b in ipairs(content) do
        if b.type == "text" then
          out[#out + 1] = b.text
        end
      end
    end
  end
  return out
end

local function chat_row(text)
  for i, l in ipairs(H.lines(H.chat_buf())) do
    if l == text then
      return i
    end
  end
end

H.test(":AgentRetry after a 529 resends the failed prompt once; the failed turn's marker goes", function()
  H.needs("agent/session/retry") -- turn_end, retry, replaceEntryId, command output: the turns feature
  new_session("retry")
  local overloaded = { error = { status = 529, type = "overloaded_error", message = "Overloaded", retry_after = 0.01 } }
  H.script({ overloaded, overloaded, overloaded })
  local done = send("count the files")
  H.eq(done.result.stopReason, "error", "the turn failed")
  local text = H.chat_text()
  H.contains(text, "_(turn ended: error)_", "the marker")
  local _, markers = text:gsub("turn ended", "")
  H.eq(markers, 1, "one marker (the turn_end update and the result)")
  H.truthy(H.noted(":AgentRetry"), "the error names :AgentRetry")
  H.eq(require("agent_ls.chat").input(H.client().id), "count the files", "the failed prompt back in the prompt area")
  vim.cmd("AgentRetry")
  turns = turns + 1
  done = H.wait_turn(turns)
  H.eq(done.err, nil, "retry error")
  H.eq(done.result.stopReason, "end_turn", "the retry ended well")
  H.eq(last_request_prompts(), { "count the files" }, "the prompt went once, not twice")
  H.eq(require("agent_ls.chat").input(H.client().id), "", "and left the prompt area")
  text = H.chat_text()
  H.contains(text, "Echo: count the files", "the reply")
  H.not_contains(text, "turn ended", "the failed turn left the chat (a branch in the file)")
  local _, yous = text:gsub("## You", "")
  H.eq(yous, 1, "one message of yours")
  -- Nothing to retry now: the server says so, the chat stays.
  vim.cmd("AgentRetry")
  turns = turns + 1
  done = H.wait_turn(turns)
  H.truthy(done.err, "an error")
  H.contains(H.chat_text(), "Echo: count the files", "the chat still shows the session")
end)

H.test("a failed prompt comes back to the prompt area; a new prompt replaces the failed turn", function()
  H.needs("agent/session/retry") -- turn_end, retry, replaceEntryId, command output: the turns feature
  new_session("after failure")
  H.script({ { error = { status = 400, message = "bad request for the fake" } } })
  send("first try")
  local c = H.client()
  local chat = require("agent_ls.chat")
  H.eq(chat.input(c.id), "first try", "the failed prompt is back to change")
  chat.set_input(c.id, "")
  local done = send("second try")
  H.eq(done.result.stopReason, "end_turn", "the new turn")
  H.eq(last_request_prompts(), { "second try" }, "the failed prompt is not in the request")
  local text = H.chat_text()
  H.not_contains(text, "first try", "the failed turn left the chat")
  H.not_contains(text, "turn ended", "and its marker")
  H.contains(text, "Echo: second try", "the reply")
end)

H.test("a reload shows the turn_end markers as they were live", function()
  H.needs("agent/session/retry") -- turn_end, retry, replaceEntryId, command output: the turns feature
  new_session("markers")
  H.script({ { error = { status = 400, message = "bad request for the fake" } } })
  send("this fails")
  local live = H.chat_text():match("## You.*$")
  local n = #changed
  vim.cmd("AgentNew elsewhere")
  H.wait_for(function()
    return #changed > n
  end, "away")
  local id
  for _, info in ipairs(H.client():request_sync("agent/session/list", { limit = 50 }, 5000).result.sessions) do
    if info.name == "markers" then
      id = info.sessionId
    end
  end
  require("agent_ls").switch(id)
  H.wait_for(function()
    return #changed > n + 1
  end, "back")
  H.eq(H.chat_text():match("## You.*$"), live, "the same transcript after a reload")
  H.contains(live, "_(turn ended: error)_\n**error:** ", "with the marker")
end)

H.test("ge on a message of yours puts it in the prompt area; sending replaces it", function()
  H.needs("agent/session/retry") -- turn_end, retry, replaceEntryId, command output: the turns feature
  new_session("edit")
  send("first question")
  send("second question")
  require("agent_ls").chat()
  local row = chat_row("second question")
  vim.api.nvim_win_set_cursor(0, { row, 0 })
  vim.api.nvim_feedkeys("ge", "mx", false)
  local c = H.client()
  local chat = require("agent_ls.chat")
  H.eq(chat.input(c.id), "second question", "the message in the prompt area")
  H.eq(vim.api.nvim_win_get_cursor(0)[1], vim.api.nvim_buf_line_count(0), "the cursor on it")
  local sent
  local orig = c.request
  c.request = function(self, method, params, ...)
    if method == "agent/session/prompt" then
      sent = vim.deepcopy(params)
    end
    return orig(self, method, params, ...)
  end
  chat.set_input(c.id, "second question, better")
  chat.send(c.id)
  turns = turns + 1
  H.wait_turn(turns)
  c.request = orig
  H.truthy(sent.replaceEntryId, "replaceEntryId")
  H.eq(last_request_prompts(), { "first question", "second question, better" }, "the model saw the edited text only")
  local text = H.chat_text()
  H.not_contains(text, "second question\n", "the old message left the chat")
  H.contains(text, "Echo: second question, better", "the new reply")
  vim.cmd.wincmd("p")
end)

H.test(":AgentRewind to the second of four messages restores the files; undo puts them back", function()
  H.needs("agent/session/rewind")
  new_session("rewind")
  H.write(ws .. "/a.txt", "one\n")
  write_turn("m1", "a.txt", "two\n")
  write_turn("m2", "a.txt", "three\n")
  write_turn("m3", "c.txt", "new file\n")
  write_turn("m4", "a.txt", "four\n")
  H.answer_select(function(items, _, shown)
    H.eq(shown[1]:sub(-2), "m4", "newest first")
    return items[3] -- m2
  end)
  H.answer_select(function(items)
    return items[1] -- conversation and files
  end)
  local n = #rewound
  vim.cmd("AgentRewind")
  H.wait_for(function()
    return #rewound > n
  end, "the rewind")
  local res = rewound[#rewound].result
  H.truthy(res, "applied: " .. vim.inspect(rewound[#rewound].err))
  H.eq(H.read(ws .. "/a.txt"), "two\n", "a.txt as after m1")
  H.eq(vim.uv.fs_stat(ws .. "/c.txt"), nil, "c.txt (made by m3) is gone")
  local c = H.client()
  H.eq(require("agent_ls.chat").input(c.id), "m2", "the message waits in the prompt area")
  local text = H.chat_text()
  H.contains(text, "```text\nm1\n```", "m1 stays")
  H.not_contains(text, "```text\nm2\n```", "m2 and later left the chat")
  H.contains(text, "↺ rewind to before “m2”", "a line in the chat")
  H.truthy(H.noted("undo with :AgentRevert undo"), "undo offered")
  local reverted = H.events("Reverted")
  vim.cmd("AgentRevert undo")
  H.wait_for(function()
    return #reverted > 0
  end, "the undo")
  H.eq(H.read(ws .. "/a.txt"), "four\n", "a.txt back")
  H.eq(H.read(ws .. "/c.txt"), "new file\n", "c.txt back")
  H.wait_for(function()
    return H.chat_text():find("```text\nm4\n```", 1, true) ~= nil
  end, "the conversation back too: m2..m4 in the chat again")
  require("agent_ls.chat").set_input(c.id, "")
end)

H.test("gR on a message of yours rewinds the conversation only to before it", function()
  H.needs("agent/session/rewind")
  new_session("conversation")
  send("keep this")
  send("drop this")
  require("agent_ls").chat()
  vim.api.nvim_win_set_cursor(0, { chat_row("drop this"), 0 })
  H.answer_select(function(items, _, shown)
    H.contains(shown[2], "Conversation only", "the scopes")
    return items[2]
  end)
  local n = #rewound
  vim.api.nvim_feedkeys("gR", "mx", false)
  H.wait_for(function()
    return #rewound > n
  end, "the rewind")
  H.eq(rewound[#rewound].scope, "conversation", "scope")
  H.contains(H.selects[#H.selects].prompt, "drop this", "the message named")
  local text = H.chat_text()
  H.contains(text, "Echo: keep this", "the earlier turn stays")
  H.not_contains(text, "Echo: drop this", "the later one left")
  H.contains(text, "no file to restore", "the note")
  H.eq(require("agent_ls.chat").input(H.client().id), "drop this", "the message in the prompt area")
  require("agent_ls.chat").set_input(H.client().id, "")
  vim.cmd.wincmd("p")
end)

H.test("a conflicting rewind writes nothing until the user picks: cancel, then restore the others", function()
  H.needs("agent/session/rewind")
  new_session("conflict")
  H.write(ws .. "/a.txt", "one\n")
  write_turn("c1", "a.txt", "agent a\n")
  write_turn("c2", "d.txt", "agent d\n")
  H.write(ws .. "/a.txt", "mine\n") -- the user rewrites a.txt: overlaps the agent's change
  H.answer_select(function(items)
    return items[#items] -- c1, the oldest
  end)
  H.answer_select(function(items)
    return items[3] -- files only
  end)
  H.answer_select(function()
    return "Cancel"
  end)
  local n = #rewound
  vim.cmd("AgentRewind")
  H.wait_for(function()
    return #rewound > n
  end, "the cancel")
  local ask = H.selects[#H.selects]
  H.eq(ask.kind, "agent_ls_conflict", "the plan was asked about")
  H.contains(ask.prompt, "a.txt", "the conflict named")
  H.contains(ask.prompt, "conflict a.txt", "the plan: a.txt conflicts")
  H.contains(ask.prompt, "restore d.txt", "the plan: d.txt would be restored")
  H.eq(H.read(ws .. "/d.txt"), "agent d\n", "cancelled: nothing written")
  H.eq(H.read(ws .. "/a.txt"), "mine\n", "the user's a.txt")
  local qf = vim.fn.getqflist()
  H.eq(vim.fn.fnamemodify(vim.api.nvim_buf_get_name(qf[1].bufnr), ":t"), "a.txt", "the conflict first in quickfix")

  H.answer_select(function(items)
    return items[#items]
  end)
  H.answer_select(function(items)
    return items[3]
  end)
  H.answer_select(function(items)
    return items[1] -- restore the others
  end)
  vim.cmd("AgentRewind")
  H.wait_for(function()
    return #rewound > n + 1
  end, "the partial rewind")
  H.truthy(rewound[#rewound].result, "applied")
  H.eq(vim.uv.fs_stat(ws .. "/d.txt"), nil, "d.txt restored (removed)")
  H.eq(H.read(ws .. "/a.txt"), "mine\n", "a.txt kept")
  H.truthy(H.noted("1 conflict kept"), "the summary says so")
end)

H.test("a rewind merges a user's edit that does not overlap the agent's", function()
  H.needs("agent/session/rewind")
  new_session("merge")
  local lines = "alpha\nbeta\ngamma\ndelta\nepsilon\nzeta\neta\ntheta\n"
  H.write(ws .. "/b.txt", lines)
  write_turn("edit b", "b.txt", (lines:gsub("beta", "BETA")))
  H.write(ws .. "/b.txt", (lines:gsub("beta", "BETA"):gsub("eta\ntheta", "eta\nTHETA")))
  H.answer_select(function(items)
    return items[1]
  end)
  H.answer_select(function(items)
    return items[3]
  end)
  local n = #rewound
  vim.cmd("AgentRewind")
  H.wait_for(function()
    return #rewound > n
  end, "the rewind")
  H.eq(H.read(ws .. "/b.txt"), (lines:gsub("eta\ntheta", "eta\nTHETA")), "the agent's change undone, the user's kept")
  H.truthy(H.noted("merged 1 (your edits kept)"), "merged")
end)

H.test("command output shows folded under the tool line, live and after a reload", function()
  H.needs("agent/session/retry") -- turn_end, retry, replaceEntryId, command output: the turns feature
  new_session("output")
  H.script({
    { content = { { type = "tool_use", name = "run_command", input = { command = "printf 'out one\\nout two\\n'; exit 3" } } } },
    { content = { { type = "text", text = "It failed." } } },
  })
  send("run it")
  local live = H.chat_text()
  H.contains(live, "\n  │ out one\n  │ out two\n  │ Exit code 3", "the output tail and the exit code")
  require("agent_ls").chat()
  local row = chat_row("  │ out one")
  H.eq(vim.fn.foldclosed(row), row, "folded")
  vim.cmd.wincmd("p")
  local id = H.state().active.sessionId
  local n = #changed
  require("agent_ls").switch(id)
  H.wait_for(function()
    return #changed > n
  end, "the reload")
  H.contains(H.chat_text(), "\n  │ out one\n  │ out two\n  │ Exit code 3", "the same after a reload")
end)

H.run()
