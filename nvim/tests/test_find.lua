-- Finding and carrying sessions, against the real server: :AgentSearch (hits with snippets; the
-- picked one opens its session with the cursor on the entry), tags (:AgentTag, shown and
-- filtered in :AgentSessions), :AgentExport (a file, or a buffer) and :AgentImport (a bundle, and
-- Claude Code's files).
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

local ws = H.workspace("find_ws", { ["main.py"] = "x = 1\n" })
vim.cmd.cd(ws)
H.setup({ resume_recent = false })
vim.cmd.edit(ws .. "/main.py")
local changed = H.events("SessionChanged")
local opened = H.events("SearchOpened")
local turns = 0

local function new_session(name)
  local n = #changed
  vim.cmd("AgentNew " .. name)
  H.wait_for(function()
    return #changed > n
  end, "session " .. name)
  return H.state().active.sessionId
end

local function prompt(text)
  vim.cmd("AgentPrompt " .. text)
  turns = turns + 1
  H.wait_turn(turns)
end

local ids = {}

--- Makes session `id` the active one.
local function switch(id)
  local n = #changed
  require("agent_ls").switch(id)
  H.wait_for(function()
    return #changed > n
  end, "the switch")
end

H.test("two sessions to find", function()
  ids.birds = new_session("birds")
  prompt("the heron stands in the shallow water")
  for i = 1, 12 do
    prompt("filler message number " .. i)
  end
  ids.fish = new_session("fish")
  prompt("a pike waits under the reeds")
end)

H.test(":AgentSearch lists hits with snippets; the picked one opens at its entry", function()
  H.needs("agent/session/search")
  local results = H.events("SearchResults")
  H.answer_select(function(items)
    for _, hit in ipairs(items) do
      if hit.role == "user" then
        return hit
      end
    end
  end)
  vim.cmd("AgentSearch heron")
  H.wait_for(function()
    return #opened > 0
  end, "the hit to open")
  local call = H.selects[#H.selects]
  H.eq(call.kind, "agent_ls_search_hit", "the search picker")
  H.contains(call.prompt, "heron", "the query in the prompt")
  H.contains(call.shown[1], "birds │ ", "the session's name first")
  H.contains(call.shown[1], "heron", "the snippet")
  local hit = results[1].hits[1]
  H.truthy(#hit.highlights > 0, "highlights")
  H.contains(require("agent_ls.search").marked_snippet(hit), "**heron**", "the match in bold")
  H.eq(H.state().active.sessionId, ids.birds, "switched to the hit's session")
  H.truthy(opened[1].found, "the entry is in the chat")
  local line = vim.api.nvim_get_current_line()
  H.eq(vim.bo.filetype, "agent_ls_chat", "in the chat")
  local row = vim.api.nvim_win_get_cursor(0)[1]
  local lines = H.lines(0)
  local block = table.concat(vim.list_slice(lines, row, row + 3), "\n")
  H.contains(block, "the heron stands in the shallow water", "the cursor at the hit: " .. line)
  H.eq(vim.fn.line("w0"), row, "the hit at the top of the window")
  vim.cmd.wincmd("p")
end)

H.test(":AgentSearch pages: the last item loads the next hits into the picker", function()
  H.needs("agent/session/search")
  local config = require("agent_ls.config")
  local page = config.options.search_page
  config.options.search_page = 5
  local results = H.events("SearchResults")
  local n = #opened
  local more = function(items)
    return items[#items]
  end
  H.answer_select(more)
  H.answer_select(more)
  H.answer_select(function(items)
    return items[1]
  end)
  vim.cmd("AgentSearch filler")
  H.wait_for(function()
    return #opened > n
  end, "a hit of the third page's picker to open")
  config.options.search_page = page
  H.eq(#results, 3, "three pages asked for")
  H.eq(results[1].cursor, nil, "the first from the start")
  H.truthy(results[2].cursor and results[3].cursor ~= results[2].cursor, "then from each cursor")
  local shown = vim.list_slice(H.selects, #H.selects - 2)
  H.eq(#shown[1].items, 6, "five hits and the item that loads more")
  H.contains(shown[1].shown[6], "more hits", "the last item says what it does")
  H.eq(#shown[2].items, 11, "ten hits, then more")
  H.truthy(#shown[3].items >= 12, "every filler message by the third page")
  H.contains(shown[3].prompt, "hits)", "the count once past a page")
  local seen = {}
  for _, hit in ipairs(shown[3].items) do
    if not hit.more then
      H.truthy(not seen[hit.entryId], "no hit twice: " .. tostring(hit.entryId))
      seen[hit.entryId] = true
    end
  end
  vim.cmd.wincmd("p")
end)

H.test(":AgentSearch with no hit says so", function()
  H.needs("agent/session/search")
  vim.cmd("AgentSearch zebra")
  H.wait_for(function()
    return H.noted("no session mentions “zebra”")
  end, "the note")
end)

H.test(":AgentTag adds and removes tags; :AgentSessions shows them and filters by them", function()
  H.needs("agent/session/setMetadata")
  switch(ids.birds)
  local tagged = H.events("Tagged")
  vim.cmd("AgentTag nature #water")
  H.wait_for(function()
    return #tagged == 1
  end, "tagged")
  H.eq(H.state().active.tags, { "nature", "water" }, "the tags")
  vim.cmd("AgentTag! water")
  H.wait_for(function()
    return #tagged == 2
  end, "untagged")
  H.eq(H.state().active.tags, { "nature" }, "one removed")
  H.answer_select(function()
    return nil
  end)
  vim.cmd("AgentSessions")
  H.wait_for(function()
    return H.selects[#H.selects].kind == "agent_ls_session" and H.selects[#H.selects].choice == nil and #H.selects[#H.selects].items == 2
  end, "the picker")
  local shown = table.concat(H.selects[#H.selects].shown, "\n")
  H.contains(shown, "birds #nature", "the tags after the name")
  local n = #H.selects
  H.answer_select(function()
    return nil
  end)
  vim.cmd("AgentSessions nature")
  H.wait_for(function()
    return #H.selects > n
  end, "the filtered picker")
  H.eq(#H.selects[#H.selects].items, 1, "only the tagged session")
  H.contains(H.selects[#H.selects].prompt, "#nature", "the filter in the prompt")
end)

H.test(":AgentExport writes Markdown to a path; ! opens it in a buffer", function()
  H.needs("agent/session/export")
  switch(ids.birds)
  local exported = H.events("Exported")
  local path = H.tmp .. "/out/birds.md"
  vim.fn.mkdir(H.tmp .. "/out", "p")
  vim.cmd("AgentExport markdown " .. path)
  H.wait_for(function()
    return #exported == 1
  end, "the export")
  local text = H.read(path)
  H.contains(text, "the heron stands in the shallow water", "the transcript in the file")
  H.eq(exported[1].bytes, #text, "the bytes reported")
  H.truthy(H.noted("exported markdown to " .. path), "the note")
  vim.cmd("AgentExport! markdown")
  H.wait_for(function()
    return #exported == 2
  end, "the buffer")
  H.contains(H.text(exported[2].buf), "the heron stands", "the buffer")
  H.eq(vim.bo[exported[2].buf].filetype, "markdown", "as markdown")
  vim.cmd.tabclose()
end)

H.test(":AgentExport bundle asks for the path; importing it here again imports nothing twice", function()
  H.needs("agent/session/export")
  local exported = H.events("Exported")
  local imported = H.events("Imported")
  local bundle = H.tmp .. "/out/birds.tar"
  H.answer_input(bundle)
  vim.cmd("AgentExport bundle")
  H.wait_for(function()
    return #exported == 1
  end, "the bundle")
  H.contains(H.inputs[#H.inputs].default, "/birds.tar", "the default path names the session")
  H.truthy(vim.uv.fs_stat(bundle), "the bundle file")
  vim.cmd("AgentImport " .. bundle)
  H.wait_for(function()
    return #imported == 1
  end, "the import")
  H.eq(#imported[1].result.imported, 0, "nothing new")
  H.eq(imported[1].result.skipped, 1, "the session is here already")
  H.truthy(H.noted("imported 0 sessions, 1 already here"), "the note")
end)

H.test(":AgentImport --from claude-code PATH imports Claude Code's session", function()
  H.needs("agent/session/import")
  local imported = H.events("Imported")
  local file = H.tmp .. "/claude/0b5e7c1d-1111-4c55-9a11-3e0d6c1b2a10.jsonl"
  local line = function(t)
    return vim.json.encode(t)
  end
  H.write(file, table.concat({
    line({ type = "summary", summary = "Greeting fix", leafUuid = "a1" }),
    line({
      parentUuid = vim.NIL,
      isSidechain = false,
      type = "user",
      cwd = ws,
      sessionId = "0b5e7c1d-1111-4c55-9a11-3e0d6c1b2a10",
      message = { role = "user", content = "Make greet() say hello" },
      uuid = "u1",
      timestamp = "2025-06-01T10:00:00.000Z",
    }),
    line({
      parentUuid = "u1",
      isSidechain = false,
      type = "assistant",
      cwd = ws,
      sessionId = "0b5e7c1d-1111-4c55-9a11-3e0d6c1b2a10",
      message = {
        id = "m1",
        type = "message",
        role = "assistant",
        model = "claude-sonnet-4-20250514",
        content = { { type = "text", text = "It says hello now." } },
        stop_reason = "end_turn",
      },
      uuid = "a1",
      timestamp = "2025-06-01T10:00:02.000Z",
    }),
  }, "\n") .. "\n")
  vim.cmd("AgentImport --from claude-code " .. file)
  H.wait_for(function()
    return #imported == 1
  end, "the import")
  local res = imported[1].result
  H.eq(#res.imported, 1, "one session: " .. vim.inspect(res))
  H.truthy(H.noted("imported 1 session"), "the note")
  vim.cmd("AgentImport --from claude-code " .. file)
  H.wait_for(function()
    return #imported == 2
  end, "again")
  H.eq(#imported[2].result.imported, 0, "nothing twice")
  local n = #changed
  require("agent_ls").switch(res.imported[1].sessionId)
  H.wait_for(function()
    return #changed > n
  end, "the switch")
  H.contains(H.chat_text(), "Make greet() say hello", "the imported prompt")
  H.contains(H.chat_text(), "It says hello now.", "the imported reply")
end)

H.test(":AgentImport without a bundle or --from says how", function()
  vim.cmd("AgentImport --from nowhere")
  H.truthy(H.noted("--from takes claude-code, pi or codex"), "the sources named")
end)

H.run()
