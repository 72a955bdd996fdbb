-- The chat window's view: at the end of the transcript after every re-render (switch, :AgentNew,
-- deleting the active session) and while a reply streams, unless the user moved the cursor up;
-- a prompt sent while a turn runs is queued, never thrown away.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

local ws = H.workspace("view_ws", { ["a.txt"] = "a\n" })
vim.cmd.cd(ws)
H.setup({ resume_recent = false, chat = { position = "below", size = 8 } })
vim.cmd.edit(ws .. "/a.txt")
local changed = H.events("SessionChanged")
local queued = H.events("Queued")
local turns = 0

local function long_reply(tag)
  local lines = {}
  for i = 1, 30 do
    lines[i] = tag .. " line " .. i
  end
  return table.concat(lines, "\n")
end

local function chat_win()
  return H.truthy(vim.fn.win_findbuf(H.chat_buf())[1], "a window shows the chat")
end

--- The chat window's first and last visible lines, and the buffer's last line.
local function view()
  local win = chat_win()
  return vim.fn.line("w0", win), vim.fn.line("w$", win), vim.api.nvim_buf_line_count(H.chat_buf())
end

local function at_end(what)
  local _, bottom, count = view()
  H.eq(bottom, count, what .. ": the last line is visible")
end

local function prompt(text, script)
  if script then
    H.script(script)
  end
  vim.cmd("AgentPrompt " .. text)
  turns = turns + 1
  return H.wait_turn(turns)
end

local first
H.test("a reply started from another window streams into view", function()
  vim.cmd("AgentNew long")
  H.wait_for(function()
    return #changed > 0
  end, "the session")
  first = H.state().active.sessionId
  local snapshots = {}
  local au = vim.api.nvim_create_autocmd("User", {
    pattern = "AgentLsUpdate",
    callback = function()
      if #vim.fn.win_findbuf(H.chat_buf()) > 0 then
        local _, bottom, count = view()
        snapshots[#snapshots + 1] = bottom == count
      end
    end,
  })
  prompt("write a lot", { { content = { { type = "text", text = long_reply("first") } }, chunk_size = 40, delay_ms = 5 } })
  vim.api.nvim_del_autocmd(au)
  H.eq(vim.api.nvim_buf_get_name(0), ws .. "/a.txt", "the focus stayed in the file")
  H.truthy(#snapshots > 3, "updates seen")
  H.eq(vim.tbl_contains(snapshots, false), false, "the end was visible after every update")
  at_end("after the turn")
end)

H.test(":AgentNew shows the new session's transcript from the top", function()
  local n = #changed
  vim.cmd("AgentNew second")
  H.wait_for(function()
    return #changed > n
  end, "the new session")
  local top, bottom, count = view()
  H.eq(top, 1, "the header is visible")
  H.eq(bottom, count, "the prompt line is visible")
end)

H.test("switching back to a long session shows its end", function()
  local n = #changed
  require("agent_ls").switch(first)
  H.wait_for(function()
    return #changed > n
  end, "the switch")
  at_end("after the switch")
  local top = view()
  H.truthy(top > 1, "scrolled to the end, not the top")
end)

H.test("deleting the active session shows the empty chat", function()
  local n = #changed
  vim.cmd("AgentDelete!")
  H.wait_for(function()
    return #changed > n
  end, "the delete")
  local top, bottom, count = view()
  H.eq(top, 1, "the header is visible")
  H.eq(bottom, count, "the prompt line is visible")
end)

H.test("a user who moved the cursor up keeps their view while the reply streams", function()
  prompt("start again")
  local win = chat_win()
  vim.api.nvim_set_current_win(win)
  vim.api.nvim_win_set_cursor(win, { 2, 0 })
  vim.cmd("normal! zt")
  local top = view()
  vim.cmd.wincmd("p")
  prompt("more", { { content = { { type = "text", text = long_reply("more") } }, chunk_size = 40, delay_ms = 5 } })
  H.eq((view()), top, "the view did not move")
  H.eq(vim.api.nvim_win_get_cursor(win)[1], 2, "the cursor did not move")
  -- Back to the prompt line: following again.
  vim.api.nvim_win_set_cursor(win, { vim.api.nvim_buf_line_count(H.chat_buf()), 0 })
  prompt("and more", { { content = { { type = "text", text = long_reply("again") } }, chunk_size = 40, delay_ms = 5 } })
  at_end("following again")
end)

--- Types `text` in the chat's prompt area and sends it with the chat's <CR>.
local function send_from_chat(text)
  local win = chat_win()
  vim.api.nvim_set_current_win(win)
  require("agent_ls.chat").set_input(H.client().id, text)
  vim.api.nvim_win_set_cursor(win, { vim.api.nvim_buf_line_count(H.chat_buf()), 0 })
  vim.api.nvim_feedkeys(vim.keycode("<CR>"), "mx", false)
  vim.cmd.wincmd("p")
end

local function slow_turn(tag)
  H.script({ { content = { { type = "text", text = string.rep(tag .. " words ", 60) } }, chunk_size = 6, delay_ms = 30 } })
  vim.cmd("AgentPrompt slow " .. tag)
  turns = turns + 1
  H.wait_for(function()
    return H.chat_text():find(tag .. " words", 1, true)
  end, "the slow reply to start")
end

local function queue_lines()
  local ns = vim.api.nvim_get_namespaces()["agent_ls.chat.queue"]
  local out = {}
  for _, m in ipairs(vim.api.nvim_buf_get_extmarks(H.chat_buf(), ns, 0, -1, { details = true })) do
    for _, vl in ipairs(m[4].virt_lines or {}) do
      out[#out + 1] = vl[1][1]
    end
  end
  return out
end

H.test("a prompt sent while a turn runs is queued, shown, and sent when the turn ends", function()
  slow_turn("busy")
  local n = #queued
  send_from_chat("queued __question__")
  H.wait_for(function()
    return #queued > n
  end, "the prompt to be queued")
  H.eq(queue_lines(), { "⏳ queued: queued __question__" }, "shown above the separator")
  H.eq(H.noted("already running"), nil, "not refused")
  H.wait_turn(turns)
  turns = turns + 1
  local done = H.wait_turn(turns)
  H.eq(done.result.stopReason, "end_turn", "the queued prompt's turn")
  H.contains(H.chat_text(), "```text\nqueued __question__\n```", "sent as typed")
  H.contains(H.chat_text(), "Echo: queued __question__", "answered")
  H.eq(queue_lines(), {}, "the queue is empty")
end)

H.test("a queued prompt comes back to the prompt area when the turn is cancelled", function()
  slow_turn("doomed")
  local n = #queued
  send_from_chat("keep me")
  H.wait_for(function()
    return #queued > n
  end, "the prompt to be queued")
  vim.cmd("AgentCancel")
  H.eq(H.wait_turn(turns).result.stopReason, "cancelled", "cancelled")
  H.eq(require("agent_ls.chat").input(H.client().id), "keep me", "back in the prompt area")
  H.eq(queue_lines(), {}, "no longer queued")
  H.sleep(200)
  H.eq(#H.turn_ends, turns, "not sent")
end)

H.run()
