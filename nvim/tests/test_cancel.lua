-- :AgentCancel stops a streaming turn: it ends with stopReason "cancelled", keeps what streamed.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

local ws = H.workspace("cancel_ws", { ["a.txt"] = "a\n" })
vim.cmd.cd(ws)
H.setup({ resume_recent = false })
vim.cmd.edit(ws .. "/a.txt")

H.test(":AgentCancel ends the running turn with stopReason cancelled", function()
  local long = string.rep("streaming words slowly ", 80) .. "THE END"
  H.script({ { content = { { type = "text", text = long } }, chunk_size = 4, delay_ms = 40 } })
  vim.cmd("AgentPrompt write a lot")
  H.wait_for(function()
    return H.chat_text():find("streaming words", 1, true)
  end, "the first streamed text")
  H.truthy(require("agent_ls").status() ~= "", "status() while running")
  local started = vim.uv.now()
  vim.cmd("AgentCancel")
  local done = H.wait_turn(1, 15000)
  -- The whole stream would take about 18 s more.
  H.truthy(vim.uv.now() - started < 10000, "the turn ended soon after the cancel")
  H.eq(done.err, nil, "a cancelled turn is not an error")
  H.eq(done.result.stopReason, "cancelled", "stopReason")
  local text = H.chat_text()
  H.contains(text, "streaming words", "what streamed is kept")
  H.not_contains(text, "THE END", "the rest never arrived")
  H.contains(text, "(turn ended: cancelled)", "the chat says so")
  H.eq(require("agent_ls").status(), "", "status() after the cancel")
end)

H.test("the session takes the next prompt after a cancel", function()
  H.reset_api()
  vim.cmd("AgentPrompt still there?")
  local done = H.wait_turn(2)
  H.eq(done.result.stopReason, "end_turn", "stopReason")
  H.contains(H.chat_text(), "Echo: still there?", "reply")
end)

H.test(":AgentCancel with nothing running says so", function()
  H.eq(require("agent_ls").cancel(), false, "nothing to cancel")
  H.truthy(H.noted("no turn is running"), "message")
end)

H.run()
