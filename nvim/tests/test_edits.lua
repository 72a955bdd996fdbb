-- Agent edits land in open buffers through Neovim's workspace/applyEdit handler (so `u` undoes
-- them); checkpoints list and diff; revert, conflicts and undo.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

local ws = H.workspace("edits_ws", {
  ["hello.py"] = "print('hello')\n",
  ["notes.md"] = "# Notes\n\nfirst line\n",
})
local hello = ws .. "/hello.py"
vim.cmd.cd(ws)
H.setup({ resume_recent = false })
vim.cmd.edit(hello)
local hello_buf = vim.api.nvim_get_current_buf()
local reverted = H.events("Reverted")
local turns = 0

--- One agent turn: an edit_file call, then a closing text.
local function agent_edit(path, old, new)
  H.script({
    { content = { { type = "tool_use", name = "edit_file", input = { path = path, old_string = old, new_string = new } } } },
    { content = { { type = "text", text = "Edited " .. path .. "." } } },
  })
  vim.cmd("AgentPrompt please edit " .. path)
  turns = turns + 1
  local done = H.wait_turn(turns)
  H.eq(done.err, nil, "prompt error")
  return done.result
end

H.test("an agent edit lands in the open buffer and `u` undoes it", function()
  local result = agent_edit("hello.py", "hello", "goodbye")
  H.eq(result.stopReason, "end_turn", "stopReason")
  H.truthy(result.checkpointId, "the turn made a checkpoint")
  H.eq(H.lines(hello_buf), { "print('goodbye')" }, "buffer after the edit")
  H.eq(H.read(hello), "print('goodbye')\n", "the buffer was written (write_edits)")
  local text = H.chat_text()
  H.contains(text, "Edit hello.py", "the tool call in the chat")
  H.contains(text, "checkpoint " .. require("agent_ls.chat").short_id(result.checkpointId), "the checkpoint in the chat")
  vim.api.nvim_set_current_buf(hello_buf)
  vim.cmd("silent normal! u")
  H.eq(H.lines(hello_buf), { "print('hello')" }, "buffer after u")
  vim.cmd("silent normal! \18") -- <C-r>
  H.eq(H.lines(hello_buf), { "print('goodbye')" }, "buffer after <C-r>")
  H.eq(vim.bo[hello_buf].modified, false, "redo is back at the written text")
end)

H.test("an edit to a file not open in a buffer is written to disk", function()
  agent_edit("notes.md", "first line", "first line\nsecond line")
  H.eq(H.read(ws .. "/notes.md"), "# Notes\n\nfirst line\nsecond line\n", "notes.md on disk")
end)

H.test(":AgentCheckpoints lists the turns; the chosen one opens as a diff in a new tab", function()
  local tabs = #vim.api.nvim_list_tabpages()
  H.answer_select(function(items)
    for _, cp in ipairs(items) do
      for _, f in ipairs(cp.files or {}) do
        if (f.uri or f.path or ""):find("hello.py", 1, true) then
          return cp
        end
      end
    end
  end)
  local shown = H.events("DiffShown")
  vim.cmd("AgentCheckpoints")
  H.wait_for(function()
    return #shown > 0
  end, "the diff tab")
  local call = H.selects[#H.selects]
  H.eq(call.kind, "agent_ls_checkpoint", "select kind")
  H.eq(#call.items, 2, "two checkpoints")
  H.contains(call.shown[2], "please edit hello.py", "the prompt of the older turn")
  H.eq(#vim.api.nvim_list_tabpages(), tabs + 1, "a new tab")
  local wins = vim.api.nvim_tabpage_list_wins(0)
  H.eq(#wins, 2, "two windows")
  for _, w in ipairs(wins) do
    H.truthy(vim.wo[w].diff, "diff mode")
  end
  H.eq(H.lines(shown[1].before), { "print('hello')" }, "before")
  H.eq(H.lines(shown[1].after), { "print('goodbye')" }, "after")
  H.eq(vim.bo[shown[1].after].filetype, "python", "filetype from the path")
  vim.cmd.tabclose()
end)

H.test(":AgentRevert reverts the last turn; :AgentRevert undo undoes the revert", function()
  local n = #reverted
  vim.cmd("AgentRevert")
  H.wait_for(function()
    return #reverted > n
  end, "the revert")
  local res = reverted[#reverted].result
  H.truthy(res, "restore result: " .. vim.inspect(reverted[#reverted].err))
  H.truthy(res.undoCheckpointId, "undoCheckpointId")
  H.eq(H.read(ws .. "/notes.md"), "# Notes\n\nfirst line\n", "notes.md reverted")
  H.truthy(H.noted("undo with :AgentRevert undo"), "undo offered")
  H.eq(H.lines(hello_buf), { "print('goodbye')" }, "the earlier turn is untouched")

  vim.cmd("AgentRevert undo")
  H.wait_for(function()
    return #reverted > n + 1
  end, "the undo")
  H.eq(H.read(ws .. "/notes.md"), "# Notes\n\nfirst line\nsecond line\n", "the revert undone")
end)

H.test("a revert over a file changed since shows the conflict; overwrite on request", function()
  local result = agent_edit("hello.py", "goodbye", "ciao")
  H.eq(H.lines(hello_buf), { "print('ciao')" }, "buffer after the agent's edit")
  -- The user changes the file afterwards.
  vim.api.nvim_set_current_buf(hello_buf)
  vim.api.nvim_buf_set_lines(hello_buf, 0, -1, false, { "print('mine')" })
  vim.cmd("silent write")
  local n = #reverted
  H.answer_select(function()
    return "Cancel"
  end)
  vim.cmd("AgentRevert " .. result.checkpointId)
  H.wait_for(function()
    local last = H.selects[#H.selects]
    return last.kind == "agent_ls_conflict" and last.choice
  end, "the conflict question")
  H.contains(H.selects[#H.selects].prompt, "hello.py", "the conflict is named")
  local qf = vim.fn.getqflist()
  H.eq(#qf, 1, "one quickfix entry")
  H.eq(vim.api.nvim_buf_get_name(qf[1].bufnr), hello, "quickfix file")
  H.sleep(200)
  H.eq(#reverted, n, "cancelled: nothing reverted")
  H.eq(H.lines(hello_buf), { "print('mine')" }, "the user's text is kept")

  H.answer_select(function(items)
    return items[2] -- overwrite
  end)
  vim.cmd("AgentRevert " .. result.checkpointId)
  H.wait_for(function()
    return #reverted > n
  end, "the forced revert")
  H.eq(H.lines(hello_buf), { "print('goodbye')" }, "reverted over the conflict")
end)

H.test("the diff tab steps through a checkpoint's files with ]f and [f", function()
  H.script({
    {
      content = {
        { type = "tool_use", name = "edit_file", input = { path = "hello.py", old_string = "goodbye", new_string = "hallo" } },
        { type = "tool_use", name = "write_file", input = { path = "new/created.txt", content = "fresh\n" } },
      },
    },
    { content = { { type = "text", text = "Two files." } } },
  })
  vim.cmd("AgentPrompt two files")
  turns = turns + 1
  local result = H.wait_turn(turns).result
  H.truthy(result.checkpointId, "checkpoint")
  H.eq(H.read(ws .. "/new/created.txt"), "fresh\n", "the created file")
  local shown = H.events("DiffShown")
  require("agent_ls").diff(result.checkpointId)
  H.wait_for(function()
    return #shown > 0
  end, "the diff tab")
  local seen = { [shown[1].uri] = shown[1] }
  vim.api.nvim_feedkeys("]f", "mx", false)
  H.wait_for(function()
    return #shown > 1
  end, "the next file")
  seen[shown[2].uri] = shown[2]
  local created = seen[vim.uri_from_fname(ws .. "/new/created.txt")]
  H.truthy(created, "created.txt shown")
  H.eq(H.lines(created.before), { "" }, "a created file has no before text")
  H.eq(H.lines(created.after), { "fresh" }, "after")
  H.truthy(seen[vim.uri_from_fname(hello)], "hello.py shown")
  vim.api.nvim_feedkeys("[f", "mx", false)
  H.wait_for(function()
    return #shown > 2
  end, "the previous file")
  H.eq(shown[3].uri, shown[1].uri, "back to the first file")
  local tab = vim.api.nvim_get_current_tabpage()
  vim.api.nvim_feedkeys("q", "mx", false)
  H.truthy(not vim.api.nvim_tabpage_is_valid(tab), "q closes the tab")
end)

H.test("an edit to a buffer with unsaved changes: the chat says so, :AgentWrite writes it", function()
  local dirty = ws .. "/dirty.py"
  H.write(dirty, "a = 1\nb = 2\n")
  vim.cmd.edit(dirty)
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].filetype = "python" -- as filetype detection would (the tests run with -u NONE)
  H.wait_for(function()
    return #vim.lsp.get_clients({ bufnr = buf, name = "agent_ls" }) > 0
  end, "the server to attach the buffer")
  vim.api.nvim_buf_set_lines(buf, 0, 1, false, { "a = 10" }) -- the user's unsaved change
  agent_edit("dirty.py", "b = 2", "b = 20")
  H.eq(H.lines(buf), { "a = 10", "b = 20" }, "both changes in the buffer")
  H.eq(H.read(dirty), "a = 1\nb = 2\n", "the user's unfinished text is not saved unasked")
  H.eq(vim.bo[buf].modified, true, "still modified")
  H.contains(H.chat_text(), "dirty.py: the agent's edit is in the buffer only", "the chat says so")
  H.truthy(H.noted(":AgentWrite"), "the warning offers to write")
  vim.cmd("AgentWrite")
  H.eq(H.read(dirty), "a = 10\nb = 20\n", "written")
  H.eq(vim.bo[buf].modified, false, "saved")
  H.truthy(H.noted("wrote dirty.py"), "reported")
end)

H.test("gr in the diff tab reverts the hunk under the cursor; the agent's other change stays", function()
  local lines = {}
  for i = 1, 20 do
    lines[i] = "line " .. i
  end
  H.write(ws .. "/long.txt", table.concat(lines, "\n") .. "\n")
  local changed = vim.deepcopy(lines)
  changed[2], changed[18] = "line 2 by the agent", "line 18 by the agent"
  H.script({
    { content = { { type = "tool_use", name = "write_file", input = { path = "long.txt", content = table.concat(changed, "\n") .. "\n" } } } },
    { content = { { type = "text", text = "Two changes." } } },
  })
  vim.cmd("AgentPrompt change two lines")
  turns = turns + 1
  local result = H.wait_turn(turns).result
  local shown = H.events("DiffShown")
  local reverted_hunks = H.events("HunkReverted")
  require("agent_ls").diff(result.checkpointId)
  H.wait_for(function()
    return #shown > 0
  end, "the diff tab")
  H.contains(vim.wo[vim.fn.win_getid(1)].winbar, "gr revert the hunk", "the winbar names the key")
  vim.api.nvim_set_current_win(vim.fn.win_getid(2))
  H.eq(vim.api.nvim_get_current_buf(), shown[1].after, "in the after buffer")
  vim.api.nvim_win_set_cursor(0, { 18, 0 })
  vim.api.nvim_feedkeys("gr", "mx", false)
  H.wait_for(function()
    return #reverted_hunks > 0
  end, "the hunk revert")
  local expected = vim.deepcopy(changed)
  expected[18] = "line 18"
  H.eq(H.read(ws .. "/long.txt"), table.concat(expected, "\n") .. "\n", "only the second change undone")
  H.truthy(H.noted("reverted the change at long.txt, lines 15-20"), "the note names the lines")
  vim.api.nvim_win_set_cursor(0, { 10, 0 })
  vim.api.nvim_feedkeys("gr", "mx", false)
  H.truthy(H.noted("no change of the agent's on this line"), "between the hunks")
  vim.cmd.tabclose()
end)

H.run()
