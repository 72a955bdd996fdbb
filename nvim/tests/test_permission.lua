-- agent/session/requestPermission answered through vim.ui.select: reject, then allow.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

local ws = H.workspace("permission_ws", { ["README"] = "x\n" })
vim.cmd.cd(ws)
H.setup({ resume_recent = false })
vim.cmd.edit(ws .. "/README")
local asked = H.events("Permission")

local function run_command_turn(cmd)
  H.script({
    { content = { { type = "tool_use", name = "run_command", input = { command = cmd } } } },
    { content = { { type = "text", text = "Finished." } } },
  })
end

H.test("a run_command answered Reject does not run", function()
  run_command_turn("touch ran.txt")
  H.answer_select(function(items)
    for _, option in ipairs(items) do
      if option.kind == "reject_once" then
        return option
      end
    end
  end)
  vim.cmd("AgentPrompt run it")
  local done = H.wait_turn(1)
  H.eq(done.err, nil, "prompt error")
  H.eq(#asked, 1, "asked once")
  local call = H.selects[#H.selects]
  H.eq(call.kind, "agent_ls_permission", "select kind")
  H.contains(call.prompt, "touch ran.txt", "the command is shown")
  local kinds = {}
  for _, option in ipairs(call.items) do
    kinds[#kinds + 1] = option.kind
  end
  H.truthy(vim.tbl_contains(kinds, "allow_once") and vim.tbl_contains(kinds, "reject_once"), "options")
  H.eq(vim.uv.fs_stat(ws .. "/ran.txt"), nil, "the command did not run")
  H.contains(H.chat_text(), "permission: ", "the answer in the chat")
  H.contains(H.chat_text(), "→ Reject", "the answer in the chat")
  -- The model was told.
  local reqs = H.api_requests()
  local body = vim.json.encode(reqs[#reqs].body.messages)
  H.truthy(body:find("tool_result", 1, true), "a tool_result went back to the model")
end)

H.test("a dismissed permission prompt counts as a no", function()
  run_command_turn("touch dismissed.txt")
  H.answer_select(function()
    return nil
  end)
  vim.cmd("AgentPrompt run it again")
  H.wait_turn(2)
  H.eq(vim.uv.fs_stat(ws .. "/dismissed.txt"), nil, "the command did not run")
end)

H.test("a run_command answered Allow once runs", function()
  run_command_turn("touch allowed.txt")
  H.answer_select(function(items)
    for _, option in ipairs(items) do
      if option.kind == "allow_once" then
        return option
      end
    end
  end)
  vim.cmd("AgentPrompt run this one")
  H.wait_turn(3)
  H.truthy(vim.uv.fs_stat(ws .. "/allowed.txt"), "the command ran")
end)

local function pick(kind)
  return function(items)
    for _, option in ipairs(items) do
      if option.kind == kind then
        return option
      end
    end
  end
end

H.test("Always allow covers that command only; :AgentPermissions lists and revokes it", function()
  H.script({
    { content = { { type = "tool_use", name = "run_command", input = { command = "touch always.txt" } } } },
    { content = { { type = "text", text = "Finished." } } },
    { content = { { type = "tool_use", name = "run_command", input = { command = "touch always.txt" } } } },
    { content = { { type = "tool_use", name = "run_command", input = { command = "touch other.txt" } } } },
    { content = { { type = "text", text = "Finished." } } },
  })
  H.answer_select(pick("allow_always"))
  vim.cmd("AgentPrompt run always")
  H.wait_turn(4)
  local before = #asked
  H.answer_select(pick("reject_once"))
  vim.cmd("AgentPrompt run both")
  H.wait_turn(5)
  H.eq(#asked, before + 1, "asked only about the other command")
  H.eq(vim.uv.fs_stat(ws .. "/other.txt"), nil, "the other command did not run")
  H.answer_select(function(items)
    return items[1]
  end)
  vim.cmd("AgentPermissions")
  H.wait_for(function()
    return H.noted("revoked: ")
  end, "the rule revoked")
  local call = H.selects[#H.selects]
  H.eq(call.kind, "agent_ls_permission_rule", "select kind")
  H.eq(#call.items, 1, "one remembered rule")
  H.contains(call.shown[1], "touch always.txt", "the rule names its command")
  vim.cmd("AgentPermissions")
  H.wait_for(function()
    return H.noted("no remembered permissions")
  end, "nothing left to revoke")
end)

H.run()
