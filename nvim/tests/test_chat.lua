-- The chat rendering, JSON null handling and the permission handler, without a server.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

local chat = require("agent_ls.chat")
local util = require("agent_ls.util")
require("agent_ls.config").set({})

local CID = 999 -- a client id no real client has

local function transcript()
  local lines = H.lines(chat.get(CID).buf)
  local out = {}
  for _, l in ipairs(lines) do
    if l:find("──── prompt", 1, true) then
      break
    end
    out[#out + 1] = l
  end
  return table.concat(out, "\n")
end

local function update(u)
  chat.on_update(CID, util.denull({ sessionId = "s1", turnId = "t1", update = u }))
end

H.test("JSON null is nil whether it arrives as nil or vim.NIL", function()
  H.eq(util.nn(vim.NIL), nil, "nn(vim.NIL)")
  H.eq(util.nn(false), false, "nn(false)")
  H.eq(util.denull({ a = vim.NIL, b = { vim.NIL, 1, vim.NIL, 2 }, c = { d = vim.NIL } }), {
    b = { 1, 2 },
    c = {},
  }, "denull")
  H.eq(util.content_text({ { type = "text", text = "a" }, vim.NIL, { type = "text", text = "b" } }), "a\nb", "content_text")
end)

H.test("ages and times", function()
  local now = util.parse_time("2026-11-22T10:00:00.000Z")
  H.eq(util.parse_time("2026-11-22T11:00:00+01:00"), now, "offset")
  H.eq(util.age("2026-11-22T09:59:30Z", now), "just now", "seconds")
  H.eq(util.age("2026-11-22T09:55:00Z", now), "5m ago", "minutes")
  H.eq(util.age("2026-11-22T07:00:00Z", now), "3h ago", "hours")
  H.eq(util.age("2026-11-20T10:00:00Z", now), "2d ago", "days")
  H.eq(util.age(vim.NIL, now), "", "null")
end)

H.test("a streamed turn renders as You / Agent sections, tools update in place", function()
  chat.load(CID, { sessionId = "s1", name = "demo", firstMessage = vim.NIL }, {}, false)
  H.eq(H.lines(chat.get(CID).buf)[1], "# demo", "title")
  update({ kind = "user_message", entryId = "e1", content = { { type = "text", text = "fix it" } } })
  update({ kind = "agent_thought_chunk", content = { type = "text", text = "let me\nthink" } })
  update({ kind = "agent_message_chunk", content = { type = "text", text = "Looking" } })
  update({ kind = "agent_message_chunk", content = { type = "text", text = " at it.\nNow" } })
  update({
    kind = "tool_call",
    toolCallId = "tc1",
    title = "Edit a.py",
    toolKind = "edit",
    status = "pending",
    rawInput = { path = "a.py" },
    locations = {},
    content = {},
  })
  update({ kind = "tool_call_update", toolCallId = "tc1", status = "in_progress", content = vim.NIL, locations = vim.NIL })
  update({ kind = "agent_message_chunk", content = { type = "text", text = "Done." } })
  update({ kind = "tool_call_update", toolCallId = "tc1", status = "completed", content = {} })
  update({ kind = "tool_call", toolCallId = "tc2", title = "Run `false`", toolKind = "execute", status = "pending" })
  update({
    kind = "tool_call_update",
    toolCallId = "tc2",
    status = "failed",
    content = { { type = "content", content = { type = "text", text = "exit 1" } } },
  })
  update({ kind = "checkpoint", checkpoint = { checkpointId = "s1:e9", files = { { uri = "file:///x/a.py" } } } })
  update({ kind = "usage", usage = { inputTokens = 3 } })
  update({ kind = "session_info", name = "renamed" })
  chat.turn_end(CID, "s1", { stopReason = "cancelled" }, nil)
  H.eq(transcript(), table.concat({
    "# renamed",
    "_session s1_",
    "",
    "",
    "## You",
    "```text",
    "fix it",
    "```",
    "",
    "## Agent",
    "> let me",
    "> think",
    "",
    "Looking at it.",
    "Now",
    "",
    "- ✓ Edit a.py",
    "",
    "Done.",
    "",
    "- ✗ Run `false` · failed: exit 1",
    "- ✓ checkpoint e9: 1 file",
    "",
    "_(turn ended: cancelled)_",
  }, "\n"), "transcript")
end)

H.test("an unnamed session's chat is titled by its first message", function()
  chat.load(CID, { sessionId = "s9" }, {}, false)
  H.eq(H.lines(chat.get(CID).buf)[1], "# new session", "empty session heading")
  chat.on_update(CID, { sessionId = "s9", update = { kind = "user_message", content = { { type = "text", text = "add a test" } } } })
  H.eq(H.lines(chat.get(CID).buf)[1], "# add a test", "title")
  chat.on_update(CID, { sessionId = "s9", update = { kind = "user_message", content = { { type = "text", text = "second" } } } })
  H.eq(H.lines(chat.get(CID).buf)[1], "# add a test", "only the first message")
  chat.load(CID, { sessionId = "s1" }, {}, false)
end)

H.test("updates for another session are not shown", function()
  local before = transcript()
  chat.on_update(CID, { sessionId = "other", update = { kind = "agent_message_chunk", content = { type = "text", text = "nope" } } })
  H.eq(transcript(), before, "unchanged")
end)

H.test("a transcript from switch renders user, assistant, tool and checkpoint items", function()
  chat.load(CID, { sessionId = "s2", firstMessage = "hello there" }, {
    { entryId = "a1", kind = "user", content = { { type = "text", text = "hello there" } } },
    {
      entryId = "a2",
      kind = "assistant",
      content = {
        { type = "text", text = "Hi." },
        { type = "tool_use", id = "tu1", name = "run_command", input = { command = "ls" } },
      },
      toolCalls = { { toolCallId = "tu1", title = "Run `ls`", toolKind = "execute", locations = {} } },
      stopReason = "tool_use",
    },
    {
      entryId = "a3",
      kind = "tool",
      content = { { type = "tool_result", tool_use_id = "tu1", content = "denied", is_error = true } },
    },
    { entryId = "a4", kind = "assistant", content = { { type = "text", text = "Ok." } } },
    { entryId = "a5", kind = "checkpoint", checkpointId = "s2:a5", files = { { path = "/x/a" } } },
    { entryId = "a6", kind = "something_new" },
  }, true)
  H.eq(transcript(), table.concat({
    "# hello there",
    "_session s2_",
    "_(earlier messages not shown)_",
    "",
    "",
    "## You",
    "```text",
    "hello there",
    "```",
    "",
    "## Agent",
    "Hi.",
    "",
    "- ✗ Run `ls` · failed: denied",
    "",
    "Ok.",
    "",
    "- ✓ checkpoint a5: 1 file",
  }, "\n"), "transcript")
end)

H.test("the typed prompt survives streaming and session loads", function()
  chat.set_input(CID, "draft\nline two")
  update({ kind = "agent_message_chunk", content = { type = "text", text = "ignored: other session" } })
  chat.load(CID, { sessionId = "s1" }, {}, false)
  update({ kind = "agent_message_chunk", content = { type = "text", text = "streaming" } })
  H.eq(chat.input(CID), "draft\nline two", "input")
  H.contains(transcript(), "streaming", "transcript")
end)

H.test("the chat repairs a deleted separator", function()
  local buf = chat.get(CID).buf
  local lines = H.lines(buf)
  for i, l in ipairs(lines) do
    if l:find("──── prompt", 1, true) then
      vim.api.nvim_buf_set_lines(buf, i - 1, i, false, {})
      break
    end
  end
  update({ kind = "agent_message_chunk", content = { type = "text", text = " more" } })
  H.contains(H.text(buf), "──── prompt", "separator back")
end)

--- Captures at (row, col) of the chat buffer, after a full parse (injections included).
local function captures(buf, row, col)
  vim.treesitter.get_parser(buf):parse(true)
  return vim.treesitter.get_captures_at_pos(buf, row, col)
end

local function find_row(buf, text)
  for i, l in ipairs(H.lines(buf)) do
    if l == text then
      return i - 1
    end
  end
  H.fail(text .. " not in the chat")
end

H.test("the user's prompt is shown literally: no markdown conceal on it", function()
  chat.load(CID, { sessionId = "s3" }, {
    { entryId = "u1", kind = "user", content = { { type = "text", text = "Add a __str__ and *stars*\nuse ```code```" } } },
    { entryId = "u2", kind = "assistant", content = { { type = "text", text = "Made **it** bold." } } },
  }, false)
  local buf = chat.get(CID).buf
  local row = find_row(buf, "Add a __str__ and *stars*")
  H.eq(H.lines(buf)[row], "````text", "a fence longer than the text's backticks")
  H.eq(H.lines(buf)[row + 3], "````", "closed after the text")
  local line = H.lines(buf)[row + 1]
  for col = 0, #line - 1 do
    for _, cap in ipairs(captures(buf, row, col)) do
      H.eq(cap.metadata.conceal, nil, "conceal at column " .. col .. " (" .. cap.capture .. ")")
    end
  end
  -- The agent's markdown is still markdown: its emphasis markers conceal.
  local agent_row = find_row(buf, "Made **it** bold.")
  local concealed = false
  for _, cap in ipairs(captures(buf, agent_row, 5)) do
    concealed = concealed or cap.metadata.conceal ~= nil
  end
  H.truthy(concealed, "the agent's ** is concealed")
end)

H.test("fenced code is highlighted by the markdown parser registered for the chat filetype", function()
  local buf = chat.get(CID).buf
  H.eq(vim.bo[buf].filetype, "agent_ls_chat", "filetype")
  H.eq(vim.treesitter.language.get_lang("agent_ls_chat"), "markdown", "registered parser")
  H.truthy(vim.treesitter.highlighter.active[buf], "treesitter highlighting is on")
  chat.on_update(CID, { sessionId = "s3", update = { kind = "agent_message_chunk", content = { type = "text", text = "\n```lua\nlocal x = 1\n```\n" } } })
  local row = find_row(buf, "local x = 1")
  local langs = {}
  for _, cap in ipairs(captures(buf, row, 0)) do
    langs[cap.lang] = true
  end
  H.truthy(langs.lua, "the lua parser highlights the block: " .. vim.inspect(langs))
end)

H.test("checkpoint lines show a short id and keep the full one for <CR>; undo points are labelled", function()
  chat.load(CID, { sessionId = "01JDABCDEFGHJKMNPQRSTVWXYZ" }, {
    {
      entryId = "a5",
      kind = "checkpoint",
      checkpointKind = "turn",
      checkpointId = "01JDABCDEFGHJKMNPQRSTVWXYZ:01JDZZZZZZZZZZZZZZZZZZZZZZ",
      files = { { path = "/x/a" }, { path = "/x/b" } },
    },
    {
      entryId = "a6",
      kind = "checkpoint",
      checkpointKind = "undo",
      checkpointId = "01JDABCDEFGHJKMNPQRSTVWXYZ:01JDYYYYYYYYYYYYYYYYYYYYYY",
      files = { { path = "/x/a" } },
    },
  }, false)
  local c = chat.get(CID)
  local row = find_row(c.buf, "- ✓ checkpoint 01JDZZZZ: 2 files")
  H.truthy(vim.fn.strdisplaywidth(H.lines(c.buf)[row + 1]) <= 32, "fits a chat window 32 columns wide")
  H.eq(chat.checkpoint_at(c, row), "01JDABCDEFGHJKMNPQRSTVWXYZ:01JDZZZZZZZZZZZZZZZZZZZZZZ", "full id")
  local undo_row = find_row(c.buf, "- ↶ undo point 01JDYYYY: 1 file")
  H.eq(chat.checkpoint_at(c, undo_row), "01JDABCDEFGHJKMNPQRSTVWXYZ:01JDYYYYYYYYYYYYYYYYYYYYYY", "undo id")
  H.eq(chat.checkpoint_at(c, 0), nil, "no checkpoint on the title")
  local label = require("agent_ls.checkpoints").format({ kind = "undo", prompt = "", createdAt = "2026-11-22T10:00:00Z", files = {} })
  H.contains(label, "undo point (before a revert)", "the picker labels undo points")
end)

H.test("the permission handler answers through vim.ui.select, in the request coroutine", function()
  local permission = require("agent_ls.permission")
  local params = {
    sessionId = "s1",
    toolCall = { toolCallId = "t", title = "Run `rm -rf build`", toolKind = "execute", rawInput = { command = "rm -rf build" }, locations = vim.NIL },
    options = {
      { optionId = "allow_once", name = "Allow once", kind = "allow_once" },
      { optionId = "reject_once", name = "Reject", kind = "reject_once" },
    },
  }
  local function ask(choose)
    H.answer_select(choose)
    local result
    coroutine.wrap(function()
      result = permission.handle(params, { client_id = CID })
    end)()
    H.wait_for(function()
      return result
    end, "the answer")
    return result
  end
  H.eq(ask(function(items)
    return items[2]
  end), { outcome = { outcome = "selected", optionId = "reject_once" } }, "reject")
  H.contains(H.selects[#H.selects].prompt, "rm -rf build", "prompt names the command")
  H.eq(H.selects[#H.selects].prompt, "Allow the agent to: Run `rm -rf build`?", "the title once")
  H.eq(H.selects[#H.selects].shown, { "Allow once", "Reject" }, "options")
  H.eq(ask(function()
    return nil
  end), { outcome = { outcome = "cancelled" } }, "dismissed")
  H.eq(ask(function(items)
    return items[1]
  end), { outcome = { outcome = "selected", optionId = "allow_once" } }, "allow")
end)

H.test("a fork is marked in the session picker and the chat header", function()
  local sessions = require("agent_ls.sessions")
  local line = sessions.format({ sessionId = "f1", name = "demo", parentSessionId = "p1", firstMessage = "hi" }, nil)
  H.contains(line, "⑂ demo (fork)", "picker line")
  H.not_contains(sessions.format({ sessionId = "p1", name = "demo", firstMessage = "hi" }, nil), "fork", "the parent")
  chat.load(CID, { sessionId = "f1", name = "demo", parentSessionId = "p1" }, {}, false)
  H.eq(H.lines(chat.get(CID).buf)[2], "_session f1 · ⑂ fork of p1_", "header")
end)

H.test("chat keys: ]] and [[ between messages, gy yanks a code block, gf opens a tool's file", function()
  local file = H.tmp .. "/src/tool_target.py"
  H.write(file, "x = 1\n")
  chat.load(CID, { sessionId = "k1" }, {
    { entryId = "k2", kind = "user", content = { { type = "text", text = "show code" } } },
    {
      entryId = "k3",
      kind = "assistant",
      content = {
        { type = "text", text = "Here:\n\n```lua\nlocal a = 1\nlocal b = 2\n```\n" },
        { type = "tool_use", id = "t1", name = "read_file", input = { path = "src/tool_target.py" } },
      },
      toolCalls = { { toolCallId = "t1", title = "Read tool_target.py", toolKind = "read", locations = { { path = file } } } },
    },
  }, false)
  local c = chat.open(CID)
  local function row_of(text)
    for i, l in ipairs(H.lines(c.buf)) do
      if l:sub(1, #text) == text then
        return i
      end
    end
  end
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  vim.api.nvim_feedkeys("]]", "mx", false)
  H.eq(vim.api.nvim_get_current_line(), "## You", "]] to the first message")
  vim.api.nvim_feedkeys("]]", "mx", false)
  H.eq(vim.api.nvim_get_current_line(), "## Agent", "]] to the next")
  vim.api.nvim_feedkeys("[[", "mx", false)
  H.eq(vim.api.nvim_get_current_line(), "## You", "[[ back")
  vim.api.nvim_win_set_cursor(0, { row_of("local b = 2"), 0 })
  vim.api.nvim_feedkeys("gy", "mx", false)
  H.eq(vim.fn.getreg('"'), "local a = 1\nlocal b = 2\n", "the code block, without fences")
  vim.api.nvim_win_set_cursor(0, { row_of("- ✓ Read tool_target.py"), 0 })
  vim.api.nvim_feedkeys("gf", "mx", false)
  H.eq(vim.api.nvim_buf_get_name(0), file, "the tool's file opened")
  H.truthy(#vim.fn.win_findbuf(c.buf) > 0, "beside the chat")
  local custom = require("agent_ls.config").options.keymaps
  H.eq({ custom.chat_next, custom.chat_prev, custom.chat_yank_code, custom.chat_open_file }, { "]]", "[[", "gy", "gf" }, "defaults")
end)

H.test("completion sources: omnifunc, nvim-cmp and blink.cmp offer #buffer, #selection and @files", function()
  local completion = require("agent_ls.completion")
  H.eq({ completion.word_before("see #se", 7) }, { 4, "#se" }, "the word before the cursor")
  H.eq(completion.word_before("mail@host", 9), nil, "not inside a word")
  local c = chat.open(CID)
  vim.api.nvim_buf_set_lines(c.buf, -2, -1, false, { "see #se" })
  vim.api.nvim_win_set_cursor(0, { vim.api.nvim_buf_line_count(c.buf), 7 })
  H.eq(require("agent_ls.context").omnifunc(1, ""), 4, "omnifunc start")
  -- nvim-cmp, as its register_source/complete API calls us.
  local registered
  package.loaded.cmp = {
    register_source = function(name, source)
      registered = { name = name, source = source }
    end,
  }
  H.truthy(completion.register_cmp(), "registered with nvim-cmp")
  package.loaded.cmp = nil
  H.eq(registered.name, "agent_ls", "source name")
  H.truthy(registered.source:is_available(), "available in the chat")
  local got
  registered.source:complete({ context = { cursor_before_line = "see #se" } }, function(r)
    got = r
  end)
  H.eq(vim.tbl_map(function(i)
    return i.label
  end, got.items), { "#selection" }, "cmp items")
  -- blink.cmp: a provider whose module is agent_ls.completion.
  local blink = completion.new()
  H.truthy(blink:enabled(), "enabled in the chat")
  blink:get_completions({ line = "see #b", cursor = { 3, 6 } }, function(r)
    got = r
  end)
  H.eq(got.items[1].label, "#buffer", "blink item")
  H.eq(got.items[1].textEdit.range, { start = { line = 2, character = 4 }, ["end"] = { line = 2, character = 6 } }, "replaces the typed word")
  vim.cmd.wincmd("p")
end)

H.test("queued prompts show above the separator and stay there while the reply streams", function()
  chat.load(CID, { sessionId = "q1" }, {}, false)
  chat.show_queue(CID, { "first queued", "second" })
  chat.on_update(CID, { sessionId = "q1", update = { kind = "agent_message_chunk", content = { type = "text", text = "streaming\nmore" } } })
  local buf = chat.get(CID).buf
  local ns = vim.api.nvim_get_namespaces()["agent_ls.chat.queue"]
  local marks = vim.api.nvim_buf_get_extmarks(buf, ns, 0, -1, { details = true })
  H.eq(#marks, 1, "one mark")
  H.contains(H.lines(buf)[marks[1][2] + 1], "──── prompt", "on the separator line")
  H.eq(marks[1][4].virt_lines_above, true, "above it")
  H.eq(vim.tbl_map(function(l)
    return l[1][1]
  end, marks[1][4].virt_lines), { "⏳ queued: first queued", "⏳ queued: second" }, "the texts")
  chat.show_queue(CID, {})
  H.eq(#vim.api.nvim_buf_get_extmarks(buf, ns, 0, -1, {}), 0, "cleared")
end)

H.test("chat keys are set from setup(): another key, or false for none", function()
  local config = require("agent_ls.config")
  config.set({ keymaps = { chat_next = "]m", chat_yank_code = false } })
  local c = chat.ensure(CID + 1)
  local function has(lhs)
    return vim.fn.maparg(lhs, "n", false, true).buffer == 1
  end
  vim.api.nvim_buf_call(c.buf, function()
    H.truthy(has("]m"), "]m moves to the next message")
    H.eq(has("]]"), false, "]] is not mapped")
    H.eq(has("gy"), false, "chat_yank_code = false: no gy")
    H.truthy(has("gf"), "the other keys keep their defaults")
  end)
  config.set({})
end)

H.test("command output: the tail under the tool line, folded in the chat's window; the same after a reload", function()
  chat.load(CID, { sessionId = "o1" }, {}, false)
  local function u(x)
    chat.on_update(CID, { sessionId = "o1", update = x })
  end
  u({ kind = "user_message", entryId = "o2", content = { { type = "text", text = "run the tests" } } })
  u({ kind = "tool_call", toolCallId = "r1", title = "Run `make test`", toolKind = "execute", status = "pending" })
  u({ kind = "tool_call_update", toolCallId = "r1", status = "in_progress" })
  local many = {}
  for i = 1, 60 do
    many[i] = "line " .. i
  end
  many[#many + 1] = "Exit code 2"
  u({
    kind = "tool_call_update",
    toolCallId = "r1",
    status = "failed",
    content = { { type = "content", content = { type = "text", text = table.concat(many, "\n") } } },
    rawOutput = { exitCode = 2, truncated = true },
  })
  local live = transcript()
  H.contains(live, "- ✗ Run `make test` · failed\n  │ line 22\n", "the tool line, then the output from line 22")
  H.not_contains(live, "line 21\n", "at most 40 lines")
  H.contains(live, "  │ line 60\n  │ Exit code 2", "ending with how it ended")
  local c = chat.open(CID)
  local rows = {}
  for i, l in ipairs(H.lines(c.buf)) do
    if l:find("│ line 22", 1, true) then
      rows.first = i
    elseif l:find("│ Exit code 2", 1, true) then
      rows.last = i
    end
  end
  H.eq(vim.fn.foldclosed(rows.first), rows.first, "the output is a closed fold")
  H.eq(vim.fn.foldclosedend(rows.first), rows.last, "of every output line")
  H.eq(vim.fn.foldclosed(rows.first - 1), -1, "the tool line stays visible")
  H.contains(vim.fn.foldtextresult(rows.first), "40 lines of output: Exit code 2", "the fold's text")
  vim.cmd.wincmd("p")
  -- The reload gets the whole stored output, its end line first.
  local stored = { "Exit code 2" }
  for i = 1, 60 do
    stored[#stored + 1] = "line " .. i
  end
  chat.load(CID, { sessionId = "o1" }, {
    { entryId = "o2", kind = "user", content = { { type = "text", text = "run the tests" } } },
    {
      entryId = "o3",
      kind = "assistant",
      content = { { type = "tool_use", id = "r1", name = "run_command", input = { command = "make test" } } },
      toolCalls = { { toolCallId = "r1", title = "Run `make test`", toolKind = "execute" } },
    },
    {
      entryId = "o4",
      kind = "tool",
      content = { { type = "tool_result", tool_use_id = "r1", content = { { type = "text", text = table.concat(stored, "\n") } }, is_error = true } },
    },
  }, false)
  H.contains(transcript(), "- ✗ Run `make test` · failed\n  │ line 22\n", "reloaded as it streamed")
  H.contains(transcript(), "  │ line 60\n  │ Exit code 2", "the end line last")
  -- A command that never ran (rejected) has no output lines.
  H.not_contains(transcript(), "denied", "nothing else")
end)

H.test("turn_end: a failed or cancelled turn is marked live once, and the same after a reload", function()
  chat.load(CID, { sessionId = "t1" }, {}, false)
  local function u(x)
    chat.on_update(CID, { sessionId = "t1", update = x })
  end
  u({ kind = "user_message", entryId = "u1", content = { { type = "text", text = "go" } } })
  u({ kind = "agent_message_chunk", content = { type = "text", text = "Start" } })
  u({ kind = "turn_end", entryId = "e1", stopReason = "error", error = "overloaded (529)" })
  chat.turn_end(CID, "t1", { stopReason = "error", error = { message = "overloaded (529)" } }, nil)
  local live = transcript()
  local _, count = live:gsub("turn ended", "")
  H.eq(count, 1, "one marker, though the result says it too")
  H.contains(live, "Start\n\n_(turn ended: error)_\n**error:** overloaded (529)", "the marker and the error")
  -- The result first, then the update: still one marker.
  u({ kind = "user_message", entryId = "u3", content = { { type = "text", text = "stop" } } })
  chat.turn_end(CID, "t1", { stopReason = "cancelled" }, nil)
  u({ kind = "turn_end", entryId = "e3", stopReason = "cancelled" })
  local _, cancelled = transcript():gsub("turn ended: cancelled", "")
  H.eq(cancelled, 1, "one marker either way")
  chat.load(CID, { sessionId = "t1" }, {
    { entryId = "u1", kind = "user", content = { { type = "text", text = "go" } } },
    { entryId = "a1", kind = "assistant", content = { { type = "text", text = "Start" } } },
    { entryId = "e1", kind = "turn_end", stopReason = "error", error = "overloaded (529)" },
    { entryId = "u2", kind = "user", content = { { type = "text", text = "again" } } },
    { entryId = "e2", kind = "turn_end", stopReason = "cancelled" },
  }, false)
  local reloaded = transcript()
  H.contains(reloaded, "Start\n\n_(turn ended: error)_\n**error:** overloaded (529)", "the error marker after a reload")
  H.contains(reloaded, "again\n```\n\n_(turn ended: cancelled)_", "the cancelled marker")
end)

H.run()
