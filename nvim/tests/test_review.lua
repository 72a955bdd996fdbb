-- Review before apply: with the edit policy "ask", the server's permission request carries the
-- edit's diff; it opens as a diff tab, ga accepts (the file is written) and gr rejects (nothing
-- written, the model is told). Against the real server.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

local ws = H.workspace("review_ws", {
  ["README"] = "the reviewed files are not open in buffers\n",
  ["app.py"] = "def main():\n    return 1\n",
})
vim.cmd.cd(ws)
H.setup({ resume_recent = false, permission_policy = { edit = "ask" } })
vim.cmd.edit(ws .. "/README")
local shown = H.events("ReviewShown")
local asked = H.events("Permission")

local function edit_turn(n)
  H.script({
    { content = { { type = "tool_use", name = "edit_file", input = { path = "app.py", old_string = "return 1", new_string = "return 2" } } } },
    { content = { { type = "text", text = "Done." } } },
  })
  vim.cmd("AgentPrompt make main return 2")
  H.wait_for(function()
    return #shown >= n
  end, "the review tab")
  return shown[n]
end

H.test("an edit under review opens as a diff; ga accepts and the file is written", function()
  H.needs("agent/session/retry") -- review diffs came with the turns feature
  local review = edit_turn(1)
  H.eq(vim.fn.fnamemodify(review.path, ":t"), "app.py", "the file")
  H.eq(H.lines(review.before), { "def main():", "    return 1" }, "before")
  H.eq(H.lines(review.after), { "def main():", "    return 2" }, "after")
  H.eq(vim.api.nvim_get_current_buf(), review.after, "the cursor in the new text")
  H.truthy(vim.wo.diff, "diff mode")
  H.contains(vim.wo[vim.fn.win_getid(1)].winbar, "app.py (+1 -1)", "the winbar names the file and the counts")
  H.contains(vim.wo[vim.fn.win_getid(1)].winbar, "ga accept · gr reject", "and the keys")
  H.eq(H.read(ws .. "/app.py"), "def main():\n    return 1\n", "nothing written before the answer")
  local tabs = #vim.api.nvim_list_tabpages()
  vim.api.nvim_feedkeys("ga", "mx", false)
  local done = H.wait_turn(1)
  H.eq(done.result.stopReason, "end_turn", "the turn went on")
  H.eq(asked[1].choice.kind, "allow_once", "answered allow once")
  H.eq(#vim.api.nvim_list_tabpages(), tabs - 1, "the review tab closed")
  H.eq(H.read(ws .. "/app.py"), "def main():\n    return 2\n", "the edit written")
  H.contains(H.chat_text(), "⚠ review: app.py → Allow once", "noted in the chat")
end)

H.test("gr rejects: nothing written, the model gets a tool error", function()
  H.needs("agent/session/retry") -- review diffs came with the turns feature
  H.write(ws .. "/app.py", "def main():\n    return 1\n")
  edit_turn(2)
  vim.api.nvim_feedkeys("gr", "mx", false)
  local done = H.wait_turn(2)
  H.eq(done.result.stopReason, "end_turn", "the turn went on")
  H.eq(asked[2].choice.kind, "reject_once", "answered reject")
  H.eq(H.read(ws .. "/app.py"), "def main():\n    return 1\n", "nothing written")
  local reqs = H.api_requests()
  H.contains(vim.json.encode(reqs[#reqs].body.messages), "The user rejected this edit", "the model was told")
  H.contains(H.chat_text(), "⚠ review: app.py → Reject", "noted in the chat")
end)

H.test("closing the review tab counts as a rejection", function()
  H.needs("agent/session/retry") -- review diffs came with the turns feature
  edit_turn(3)
  vim.cmd.tabclose()
  local done = H.wait_turn(3)
  H.eq(done.result.stopReason, "end_turn", "the turn went on")
  H.eq(asked[3].choice, nil, "dismissed")
  H.eq(H.read(ws .. "/app.py"), "def main():\n    return 1\n", "nothing written")
end)

H.test("a new file under review: nothing before it, all of it after", function()
  H.needs("agent/session/retry")
  H.script({
    { content = { { type = "tool_use", name = "write_file", input = { path = "new.py", content = "x = 1\ny = 2\n" } } } },
    { content = { { type = "text", text = "Done." } } },
  })
  vim.cmd("AgentPrompt add new.py")
  H.wait_for(function()
    return #shown >= 4
  end, "the review tab")
  local review = shown[4]
  H.eq(H.lines(review.before), { "" }, "nothing before")
  H.eq(H.lines(review.after), { "x = 1", "y = 2" }, "the new file")
  H.contains(vim.wo[vim.fn.win_getid(1)].winbar, "new.py (+2 -0 (new file))", "the winbar says it is new")
  vim.api.nvim_feedkeys("ga", "mx", false)
  H.wait_turn(4)
  H.eq(H.read(ws .. "/new.py"), "x = 1\ny = 2\n", "written")
end)

H.run()
