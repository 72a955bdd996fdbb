-- The session picker: Telescope, fzf-lua or snacks.nvim with a transcript preview when one is
-- installed (here: minimal stand-ins on 'runtimepath' that record what the plugin API is
-- given), vim.ui.select otherwise; against the real server.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

local ws = H.workspace("picker_ws", { ["main.py"] = "x = 1\n" })
vim.cmd.cd(ws)
H.setup({ resume_recent = false })
vim.cmd.edit(ws .. "/main.py")
local picker = require("agent_ls.picker")
local config = require("agent_ls.config")
local changed = H.events("SessionChanged")

-- Stand-ins for the three plugins, each recording the spec it was given in _G.stub_calls.
local stubs = H.tmp .. "/stubs"
H.write(stubs .. "/telescope/lua/telescope/pickers.lua", [[
return { new = function(_, spec)
  return { find = function() table.insert(_G.stub_calls, { plugin = "telescope", spec = spec }) end }
end }]])
H.write(stubs .. "/telescope/lua/telescope/finders.lua", "return { new_table = function(t) return t end }")
H.write(stubs .. "/telescope/lua/telescope/config.lua", "return { values = { generic_sorter = function() return {} end } }")
H.write(stubs .. "/telescope/lua/telescope/previewers.lua", "return { new_buffer_previewer = function(s) return s end }")
H.write(stubs .. "/telescope/lua/telescope/actions/init.lua", [[
return { close = function() _G.stub_closed = true end,
  select_default = { replace = function(_, fn) _G.stub_select_default = fn end } }]])
H.write(stubs .. "/telescope/lua/telescope/actions/state.lua", [[
return { get_selected_entry = function() return _G.stub_selected end }]])
H.write(stubs .. "/fzf/lua/fzf-lua/init.lua", [[
return { fzf_exec = function(lines, opts)
  table.insert(_G.stub_calls, { plugin = "fzf-lua", lines = lines, opts = opts })
end }]])
H.write(stubs .. "/snacks/lua/snacks/init.lua", [[
return { picker = { pick = function(opts)
  table.insert(_G.stub_calls, { plugin = "snacks", opts = opts })
end } }]])

local installed = {}
local function install(names)
  for _, name in ipairs(installed) do
    vim.opt.rtp:remove(stubs .. "/" .. name)
  end
  for _, mod in ipairs({ "telescope.pickers", "telescope.finders", "telescope.config", "telescope.previewers",
    "telescope.actions", "telescope.actions.state", "fzf-lua", "snacks" }) do
    package.loaded[mod] = nil
  end
  installed = names
  for _, name in ipairs(names) do
    vim.opt.rtp:append(stubs .. "/" .. name)
  end
  _G.stub_calls = {}
end

local function new_session(name)
  local n = #changed
  vim.cmd("AgentNew " .. name)
  H.wait_for(function()
    return #changed > n
  end, "session " .. name)
  return H.state().active.sessionId
end

local first_id

H.test("no picker plugin: :AgentSessions uses vim.ui.select", function()
  first_id = new_session("first")
  local turns = #H.turn_ends
  vim.cmd("AgentPrompt the word is heron")
  H.wait_turn(turns + 1)
  new_session("second")
  install({})
  config.options.picker = "auto"
  H.eq(picker.backend(), "select", "backend")
  local n = #H.selects
  H.answer_select(function()
    return nil
  end)
  vim.cmd("AgentSessions")
  H.wait_for(function()
    return #H.selects > n
  end, "vim.ui.select")
  H.eq(H.selects[#H.selects].kind, "agent_ls_session", "the session picker")
end)

H.test("auto takes Telescope, then fzf-lua, then snacks; a named picker that is missing falls back", function()
  install({ "snacks", "fzf", "telescope" })
  H.eq(picker.backend(), "telescope", "all three")
  install({ "snacks", "fzf" })
  H.eq(picker.backend(), "fzf-lua", "fzf-lua and snacks")
  install({ "snacks" })
  H.eq(picker.backend(), "snacks", "snacks")
  config.options.picker = "telescope"
  H.eq(picker.backend(), "select", "telescope asked for, not installed")
  config.options.picker = "select"
  install({ "telescope" })
  H.eq(picker.backend(), "select", "select asked for")
  config.options.picker = "auto"
end)

H.test("a picker plugin that fails falls back to vim.ui.select with a warning", function()
  install({ "snacks" })
  require("snacks").picker.pick = function()
    error("broken picker")
  end
  local n = #H.selects
  H.answer_select(function()
    return nil
  end)
  H.eq(picker.select({ "a" }, { prompt = "p", preview = function() end }, function() end), "select", "fell back")
  H.eq(#H.selects, n + 1, "vim.ui.select asked")
  H.truthy(H.noted("snacks failed"), "the warning")
end)

--- The item whose line names `name`.
local function find(list, name, field)
  for _, it in ipairs(list) do
    if (field and it[field] or it):find(name, 1, true) then
      return it
    end
  end
end

H.test("snacks: sessions listed with the transcript as preview; confirm switches", function()
  install({ "snacks" })
  vim.cmd("AgentSessions")
  local call = H.wait_for(function()
    return _G.stub_calls[1]
  end, "snacks.picker.pick")
  local opts = call.opts
  H.eq(opts.title, "Agent sessions", "title")
  H.eq(#opts.items, 2, "two sessions")
  local item = find(opts.items, "first", "text")
  H.truthy(item, "the session 'first'")
  H.eq(opts.format(item), { { item.text } }, "format")
  local shown = {}
  local preview = {
    reset = function() end,
    set_lines = function(_, lines)
      shown.lines = lines
    end,
    highlight = function(_, o)
      shown.ft = o.ft
    end,
  }
  opts.preview({ item = item, preview = preview, picker = { current = function()
    return item
  end } })
  H.wait_for(function()
    return shown.lines
  end, "the preview")
  local text = table.concat(shown.lines, "\n")
  H.contains(text, "# first", "the session's title")
  H.contains(text, "## You\n```text\nthe word is heron\n```", "the user's message")
  H.contains(text, "Echo: the word is heron", "the reply")
  H.eq(shown.ft, "markdown", "highlighted as markdown")
  local n = #changed
  opts.confirm({ close = function() end }, item)
  H.wait_for(function()
    return #changed > n
  end, "the switch")
  H.eq(H.state().active.sessionId, first_id, "switched to the chosen session")
end)

H.test("Telescope: the buffer previewer shows the transcript; <CR> switches", function()
  install({ "telescope" })
  vim.cmd("AgentSessions")
  local call = H.wait_for(function()
    return _G.stub_calls[1]
  end, "telescope pickers.new():find()")
  local spec = call.spec
  H.eq(spec.prompt_title, "Agent sessions", "title")
  local entries = vim.tbl_map(spec.finder.entry_maker, spec.finder.results)
  local entry = find(entries, "second", "display")
  H.truthy(entry, "the session 'second'")
  H.eq(entry.ordinal, entry.display, "matched on the line")
  local buf = vim.api.nvim_create_buf(false, true)
  spec.previewer.define_preview({ state = { bufnr = buf } }, entry)
  H.wait_for(function()
    return H.text(buf):find("# second", 1, true)
  end, "the preview buffer")
  H.not_contains(H.text(buf), "heron", "the other session's words")
  spec.attach_mappings(42)
  _G.stub_selected = entry
  local n = #changed
  _G.stub_select_default()
  H.wait_for(function()
    return #changed > n
  end, "the switch")
  H.truthy(_G.stub_closed, "the picker closed")
  H.eq(H.state().active.name, "second", "switched")
end)

H.test("fzf-lua: lines keep their item, the Lua previewer answers the transcript", function()
  install({ "fzf" })
  vim.cmd("AgentSessions")
  local call = H.wait_for(function()
    return _G.stub_calls[1]
  end, "fzf_exec")
  local line = find(call.lines, "first")
  H.truthy(line:match("^%d+\t"), "the index before a tab (hidden with --with-nth)")
  H.eq(call.opts.fzf_opts["--with-nth"], "2..", "only the session is shown")
  H.contains(call.opts.preview({ line }), "Echo: the word is heron", "the preview text")
  local n = #changed
  call.opts.actions.default({ line })
  H.wait_for(function()
    return #changed > n
  end, "the switch")
  H.eq(H.state().active.sessionId, first_id, "switched")
  install({})
end)

H.run()
