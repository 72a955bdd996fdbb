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
    "fix it",
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
    "- ✓ checkpoint s1:e9 · 1 file changed",
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
    "hello there",
    "",
    "## Agent",
    "Hi.",
    "",
    "- ✗ Run `ls` · failed: denied",
    "",
    "Ok.",
    "",
    "- ✓ checkpoint s2:a5 · 1 file changed",
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
  H.eq(H.selects[#H.selects].shown, { "Allow once", "Reject" }, "options")
  H.eq(ask(function()
    return nil
  end), { outcome = { outcome = "cancelled" } }, "dismissed")
  H.eq(ask(function(items)
    return items[1]
  end), { outcome = { outcome = "selected", optionId = "allow_once" } }, "allow")
end)

H.run()
