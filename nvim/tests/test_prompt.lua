-- Prompting: streamed text in the chat buffer, $/progress and status(), the chat's own prompt
-- line (<CR>), a visual selection sent as context.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

local ws = H.workspace("prompt_ws", {
  ["lib/shapes.py"] = "def area(w, h):\n    return w * h  # rectangle\n\n\ndef perimeter(w, h):\n    return 2 * (w + h)\n",
})
vim.cmd.cd(ws)
H.setup({ resume_recent = false })
vim.cmd.edit(ws .. "/lib/shapes.py")
local updates = H.events("Update")

local progress = {}
vim.api.nvim_create_autocmd("LspProgress", {
  callback = function(args)
    progress[#progress + 1] = vim.deepcopy(args.data.params)
  end,
})

local REPLY = "The quick brown fox jumps over the lazy dog, then again, and once more for the stream."

H.test(":AgentPrompt streams the reply into the chat buffer", function()
  H.script({ { content = { { type = "text", text = REPLY } }, chunk_size = 6, delay_ms = 25 } })
  local statuses = {}
  local snapshots = {}
  local au = vim.api.nvim_create_autocmd("User", {
    pattern = "AgentLsUpdate",
    callback = function()
      snapshots[#snapshots + 1] = H.chat_text()
      statuses[#statuses + 1] = require("agent_ls").status()
    end,
  })
  vim.cmd("AgentPrompt say something long")
  local done = H.wait_turn(1)
  vim.api.nvim_del_autocmd(au)
  H.eq(done.err, nil, "prompt error")
  H.eq(done.result.stopReason, "end_turn", "stopReason")
  local text = H.chat_text()
  H.contains(text, "## You\n```text\nsay something long\n```", "the user's message")
  H.contains(text, "## Agent\n" .. REPLY, "the whole reply")
  -- Streamed: some snapshot held part of the reply but not all of it.
  local partial = false
  for _, snap in ipairs(snapshots) do
    if snap:find("The quick", 1, true) and not snap:find("for the stream.", 1, true) then
      partial = true
    end
  end
  H.truthy(partial, "a partial reply was visible while streaming")
  -- The typed prompt area stays below the transcript.
  local lines = H.lines(H.chat_buf())
  H.contains(lines[#lines - 1], "──── prompt", "separator above the prompt line")
  -- status() showed the spinner while the turn ran, and is empty after.
  H.truthy(statuses[1] and statuses[1]:find("agent:", 1, true), "status() during the turn")
  H.eq(require("agent_ls").status(), "", "status() after the turn")
end)

H.test("the chat window opened beside the file when the prompt was sent", function()
  local chat = H.chat_buf()
  H.truthy(#vim.fn.win_findbuf(chat) > 0, "a window shows the chat")
  H.eq(vim.api.nvim_buf_get_name(0), ws .. "/lib/shapes.py", "focus stays in the file")
end)

H.test("the prompt reports $/progress on its workDoneToken (LspProgress)", function()
  local kinds = {}
  for _, p in ipairs(progress) do
    if type(p.token) == "string" and p.token:match("^agent_ls%-") then
      kinds[#kinds + 1] = p.value.kind
    end
  end
  H.eq(kinds[1], "begin", "first progress")
  H.eq(kinds[#kinds], "end", "last progress")
end)

H.test("a prompt typed in the chat buffer is sent with <CR>", function()
  require("agent_ls").chat()
  H.wait_for(function()
    return vim.bo.filetype == "agent_ls_chat"
  end, "the chat window")
  local buf = vim.api.nvim_get_current_buf()
  H.eq(vim.api.nvim_win_get_cursor(0)[1], vim.api.nvim_buf_line_count(buf), "cursor on the prompt line")
  vim.api.nvim_buf_set_lines(buf, -2, -1, false, { "typed in the chat", "over two lines" })
  vim.api.nvim_feedkeys(vim.keycode("<CR>"), "mx", false)
  H.wait_turn(2)
  local text = H.text(buf)
  H.contains(text, "## You\n```text\ntyped in the chat\nover two lines\n```", "the typed prompt in the transcript")
  H.contains(text, "Echo: typed in the chat\nover two lines", "the reply")
  local lines = H.lines(buf)
  H.eq(lines[#lines], "", "the prompt line is cleared")
  vim.cmd.wincmd("p")
end)

H.test("a visual selection is sent as context {uri, range}", function()
  vim.cmd.edit(ws .. "/lib/shapes.py")
  local sent
  local c = H.client()
  local orig = c.request
  c.request = function(self, method, params, ...)
    if method == "agent/session/prompt" then
      sent = vim.deepcopy(params)
    end
    return orig(self, method, params, ...)
  end
  vim.cmd("normal! 5GVj\27")
  vim.cmd("'<,'>AgentPrompt what does this do?")
  H.wait_turn(3)
  c.request = orig
  H.truthy(sent, "prompt params")
  H.eq(sent.prompt, "what does this do?", "prompt")
  H.eq(#sent.context, 1, "one context entry")
  H.eq(sent.context[1].uri, vim.uri_from_fname(ws .. "/lib/shapes.py"), "uri")
  H.eq(sent.context[1].range, {
    start = { line = 4, character = 0 },
    ["end"] = { line = 5, character = 22 },
  }, "range of lines 5-6")
  -- The server puts the selected text in front of the model.
  local reqs = H.api_requests()
  local body = vim.json.encode(reqs[#reqs].body.messages)
  H.contains(body, "def perimeter(w, h):", "the selection reached the model")
end)

H.test("a characterwise selection sends its exact columns", function()
  local sent
  local c = H.client()
  local orig = c.request
  c.request = function(self, method, params, ...)
    if method == "agent/session/prompt" then
      sent = vim.deepcopy(params)
    end
    return orig(self, method, params, ...)
  end
  -- "return w * h" on line 2: columns 4..15 (0-based, end exclusive 16).
  vim.cmd("normal! 2G04lv11l\27")
  vim.cmd("'<,'>AgentPrompt explain")
  H.wait_turn(4)
  c.request = orig
  H.eq(sent.context[1].range, {
    start = { line = 1, character = 4 },
    ["end"] = { line = 1, character = 16 },
  }, "range")
end)

H.test(":AgentPrompt without text asks with vim.ui.input", function()
  H.answer_input("asked prompt")
  vim.cmd("AgentPrompt")
  H.wait_turn(5)
  H.contains(H.chat_text(), "Echo: asked prompt", "reply")
end)

H.test("a provider error ends the turn with stopReason error, shown in the chat", function()
  H.script({ { error = { status = 400, message = "prompt is too long for the fake" } } })
  vim.cmd("AgentPrompt this fails")
  local done = H.wait_turn(6)
  H.eq(done.err, nil, "not a request error")
  H.eq(done.result.stopReason, "error", "stopReason")
  local text = H.chat_text()
  H.contains(text, "(turn ended: error)", "the chat says so")
  H.contains(text, "**error:**", "the error line")
  H.contains(text, "prompt is too long for the fake", "the provider's message")
  H.truthy(H.noted("the turn ended with an error"), "a notification")
end)

H.test("status() says writing while text streams; model and tokens in the winbar and status()", function()
  local seen = {}
  local au = vim.api.nvim_create_autocmd("User", {
    pattern = "AgentLsUpdate",
    callback = function(args)
      local u = args.data.params.update
      if u.kind == "agent_message_chunk" then
        seen[#seen + 1] = require("agent_ls").status()
      end
    end,
  })
  H.script({ { content = { { type = "text", text = REPLY } }, chunk_size = 10, delay_ms = 10 } })
  vim.cmd("AgentPrompt stream again")
  H.wait_turn(7)
  vim.api.nvim_del_autocmd(au)
  H.truthy(#seen > 2, "chunks seen")
  for _, st in ipairs(seen) do
    H.contains(st, "agent: writing", "status while text streams")
  end
  local usage = require("agent_ls").status({ usage = true })
  H.contains(usage, "fake-model", "status({usage}) names the model")
  H.truthy(usage:match("fake%-model · %d+/200k tokens$"), "status({usage}) has tokens of the context window: " .. usage)
  require("agent_ls").chat()
  local win = vim.api.nvim_get_current_win()
  local bar = vim.api.nvim_eval_statusline(vim.wo[win].winbar, { winid = win, use_winbar = true }).str
  H.contains(bar, "fake-model · ", "winbar: model")
  H.contains(bar, "/200k tokens", "winbar: tokens")
  vim.cmd.wincmd("p")
end)

H.test("#selection, #buffer and @path in the chat's prompt are sent as context; omnifunc completes them", function()
  local shapes = ws .. "/lib/shapes.py"
  vim.cmd.edit(shapes)
  vim.cmd("normal! 1GVj\27")
  local context = require("agent_ls.context")
  H.eq(context.candidates("#s"), { "#selection" }, "# candidates")
  local words = vim.tbl_map(function(i)
    return i.word
  end, context.candidates("@lib/sh"))
  H.eq(words, { "@lib/shapes.py" }, "@ candidates")
  local sent
  local c = H.client()
  local orig = c.request
  c.request = function(self, method, params, ...)
    if method == "agent/session/prompt" then
      sent = vim.deepcopy(params)
    end
    return orig(self, method, params, ...)
  end
  require("agent_ls").chat()
  local chat = require("agent_ls.chat")
  H.eq(vim.bo.omnifunc, "v:lua.require'agent_ls.context'.omnifunc", "the chat's omnifunc")
  chat.set_input(c.id, "compare @nowhere.py")
  chat.send(c.id)
  H.truthy(H.noted("@nowhere.py: no such file"), "an unknown file is named")
  H.eq(chat.input(c.id), "compare @nowhere.py", "the prompt is kept")
  chat.set_input(c.id, "explain #selection, see #buffer and @lib/shapes.py")
  chat.send(c.id)
  H.wait_turn(8)
  c.request = orig
  vim.cmd.wincmd("p")
  H.eq(sent.prompt, "explain #selection, see #buffer and @lib/shapes.py", "the text as typed")
  H.eq(sent.context, {
    {
      uri = vim.uri_from_fname(shapes),
      range = { start = { line = 0, character = 0 }, ["end"] = { line = 1, character = 29 } },
    },
    { uri = vim.uri_from_fname(shapes) },
  }, "the selection, then the whole file once")
  local reqs = H.api_requests()
  H.contains(vim.json.encode(reqs[#reqs].body.messages), "def perimeter(w, h):", "the whole file reached the model")
end)

H.test(":AgentAdd puts context lines in the prompt area; they go as context, not as text", function()
  local shapes = ws .. "/lib/shapes.py"
  vim.cmd.edit(shapes)
  local added = H.events("ContextAdded")
  vim.cmd("normal! 5GVj\27")
  vim.cmd("'<,'>AgentAdd")
  vim.cmd("AgentAdd")
  vim.cmd("AgentAdd")
  H.wait_for(function()
    return #added == 3
  end, "three adds")
  H.eq(vim.api.nvim_buf_get_name(0), shapes, "focus stays in the file")
  local c = H.client()
  local chat = require("agent_ls.chat")
  H.eq(chat.input(c.id), "> @lib/shapes.py:5-6\n> @lib/shapes.py", "context lines, the same one once")
  local lines = H.lines(H.chat_buf())
  H.contains(lines[#lines - 3], "──── prompt", "right under the separator")
  H.eq(lines[#lines], "", "the line to type the prompt on")
  vim.cmd("AgentAdd nowhere.py")
  H.truthy(H.noted("@nowhere.py: no such file"), "an unknown path is refused")
  local sent
  local orig = c.request
  c.request = function(self, method, params, ...)
    if method == "agent/session/prompt" then
      sent = vim.deepcopy(params)
    end
    return orig(self, method, params, ...)
  end
  local buf = H.chat_buf()
  vim.api.nvim_buf_set_lines(buf, -2, -1, false, { "what do these lines do?" })
  chat.send(c.id)
  H.wait_turn(9)
  c.request = orig
  H.eq(sent.prompt, "what do these lines do?", "the text without the context lines")
  H.eq(sent.context, {
    { uri = vim.uri_from_fname(shapes), range = { start = { line = 4, character = 0 }, ["end"] = { line = 6, character = 0 } } },
    { uri = vim.uri_from_fname(shapes) },
  }, "the lines, then the file")
  H.eq(chat.input(c.id), "", "the prompt area is empty again")
  local reqs = H.api_requests()
  H.contains(vim.json.encode(reqs[#reqs].body.messages), "def perimeter(w, h):", "the lines reached the model")
end)

H.test("#/@ references typed in the prompt are shown under it as what they stand for", function()
  local c = H.client()
  local chat = require("agent_ls.chat")
  chat.set_input(c.id, "compare @lib/shapes.py:1-2 with #buffer")
  chat.show_refs(c.id)
  local buf = H.chat_buf()
  local ns = vim.api.nvim_get_namespaces()["agent_ls.chat.refs"]
  local marks = vim.api.nvim_buf_get_extmarks(buf, ns, 0, -1, { details = true })
  H.eq(#marks, 1, "one mark")
  H.eq(marks[1][2], vim.api.nvim_buf_line_count(buf) - 1, "under the prompt")
  H.eq(marks[1][4].virt_lines[1][1][1], "context: lib/shapes.py:1-2 · lib/shapes.py", "what goes along")
  chat.set_input(c.id, "")
  chat.show_refs(c.id)
  H.eq(#vim.api.nvim_buf_get_extmarks(buf, ns, 0, -1, {}), 0, "cleared with the text")
end)

H.run()
