-- The chat buffer: the active session's transcript, streamed from agent/session/update, above a
-- separator line; the prompt is typed below the separator and sent with <CR> (normal mode).
local config = require("agent_ls.config")
local util = require("agent_ls.util")

local M = {}

local ns = vim.api.nvim_create_namespace("agent_ls.chat")
local ns_tools = vim.api.nvim_create_namespace("agent_ls.chat.tools")
local ns_checkpoints = vim.api.nvim_create_namespace("agent_ls.chat.checkpoints")
local ns_queue = vim.api.nvim_create_namespace("agent_ls.chat.queue")
local ns_refs = vim.api.nvim_create_namespace("agent_ls.chat.refs")
local ns_users = vim.api.nvim_create_namespace("agent_ls.chat.users")
local ns_entries = vim.api.nvim_create_namespace("agent_ls.chat.entries")
local ns_edit = vim.api.nvim_create_namespace("agent_ls.chat.edit")

--- Lines of command output under a tool line start with this (folded in the chat's windows).
M.OUTPUT_PREFIX = "  │ "
local OUTPUT_LINES, OUTPUT_BYTES = 40, 4096

M.filetype = "agent_ls_chat"
-- Fenced code in the chat is highlighted by the markdown parser (and render-markdown.nvim or
-- markview, which follow the parser registered for a filetype).
pcall(vim.treesitter.language.register, "markdown", M.filetype)

---@class agent_ls.Chat
---@field buf integer
---@field client_id integer
---@field session_id string|nil
---@field sep_mark integer
---@field last string|nil      kind of the last thing rendered
---@field in_agent boolean     an "## Agent" heading is open for this turn
---@field tools table<string, {mark: integer, data: table}>

---@type table<integer, agent_ls.Chat>
M.chats = {}
---@type agent_ls.Chat[]
M.orphans = {}

local function separator()
  local k = config.options.keymaps or {}
  local hints = {}
  if k.chat_send then
    hints[#hints + 1] = k.chat_send .. " send"
  end
  if k.chat_cancel then
    hints[#hints + 1] = k.chat_cancel .. " cancel"
  end
  local text = "──── prompt"
  if #hints > 0 then
    text = text .. " · " .. table.concat(hints, " · ")
  end
  return text .. " ────"
end

local function valid(chat)
  return chat and vim.api.nvim_buf_is_valid(chat.buf)
end

--- The client exited: its chat waits for the next client.
function M.detach(client_id)
  local chat = M.chats[client_id]
  M.chats[client_id] = nil
  if valid(chat) then
    M.orphans[#M.orphans + 1] = chat
  end
end

--- 0-based row of the separator line; repairs it if the user deleted it.
local function sep_row(chat)
  local pos = vim.api.nvim_buf_get_extmark_by_id(chat.buf, ns, chat.sep_mark, {})
  local sep = separator()
  if pos[1] then
    local line = vim.api.nvim_buf_get_lines(chat.buf, pos[1], pos[1] + 1, false)[1]
    if line == sep then
      return pos[1]
    end
  end
  local lines = vim.api.nvim_buf_get_lines(chat.buf, 0, -1, false)
  local row
  for i = #lines, 1, -1 do
    if lines[i] == sep then
      row = i - 1
      break
    end
  end
  if not row then
    row = #lines
    vim.api.nvim_buf_set_lines(chat.buf, row, row, false, { sep })
  end
  chat.sep_mark = vim.api.nvim_buf_set_extmark(chat.buf, ns, row, 0, {
    id = chat.sep_mark,
    line_hl_group = "AgentLsSeparator",
  })
  return row
end

--- Shows the end of the transcript in `win`: the last line at the bottom of the window. The
--- cursor stays where it is when it is in the prompt area, else it goes to the last line.
local function scroll_to_end(chat, win)
  vim.api.nvim_win_call(win, function()
    local count = vim.api.nvim_buf_line_count(chat.buf)
    local cursor = vim.api.nvim_win_get_cursor(win)
    local keep = cursor[1] - 1 > sep_row(chat)
    vim.api.nvim_win_set_cursor(win, { count, 0 })
    vim.cmd("normal! zb")
    if keep then
      pcall(vim.api.nvim_win_set_cursor, win, cursor)
    end
  end)
end

--- Keeps the chat's windows at the end of the transcript while it streams; a window whose
--- cursor the user moved up into the transcript stays where it is. `all`: every window (after a
--- re-render, where the old view means nothing).
local function follow(chat, all)
  for _, win in ipairs(vim.fn.win_findbuf(chat.buf)) do
    local row = vim.api.nvim_win_get_cursor(win)[1] - 1
    if all or row >= sep_row(chat) then
      scroll_to_end(chat, win)
    end
  end
end

local function insert_lines(chat, lines)
  local row = sep_row(chat)
  vim.api.nvim_buf_set_lines(chat.buf, row, row, false, lines)
  return row -- first inserted row
end

--- Appends text to the last transcript line; `prefix` starts every new line it opens.
local function append_text(chat, text, prefix)
  if text == "" then
    return
  end
  local row = sep_row(chat) - 1
  if row < 0 then
    insert_lines(chat, { "" })
    row = 0
  end
  local line = vim.api.nvim_buf_get_lines(chat.buf, row, row + 1, false)[1] or ""
  local parts = vim.split(text, "\n", { plain = true })
  if prefix then
    for i = 2, #parts do
      parts[i] = prefix .. parts[i]
    end
  end
  vim.api.nvim_buf_set_text(chat.buf, row, #line, row, #line, parts)
end

local function open_agent(chat)
  if not chat.in_agent then
    insert_lines(chat, { "", "## Agent" })
    chat.in_agent = true
    chat.last = "agent_heading"
  end
end

local STATUS_ICON = { pending = "…", in_progress = "⟳", completed = "✓", failed = "✗" }

local function tool_line(data, root)
  local status = util.nn(data.status) or "pending"
  local title = util.nn(data.title) or util.nn(data.kind) or util.nn(data.name) or "tool"
  local line = string.format("- %s %s", STATUS_ICON[status] or "•", util.one_line(title, 100))
  local paths = {}
  for _, loc in ipairs(util.nn(data.locations) or {}) do
    local p = util.nn(type(loc) == "table" and loc.path or nil)
    if p then
      paths[#paths + 1] = util.display_path(p, root)
    end
  end
  local diffs = 0
  local content = util.nn(data.content)
  for _, item in ipairs(type(content) == "table" and content or {}) do
    if type(item) == "table" and util.nn(item.type) == "diff" then
      diffs = diffs + 1
      if #paths == 0 and util.nn(item.path) then
        paths[#paths + 1] = util.display_path(item.path, root)
      end
    end
  end
  if #paths > 0 and not line:find(paths[1], 1, true) then
    line = line .. " (" .. table.concat(paths, ", ") .. ")"
  end
  if status ~= "completed" and status ~= "pending" then
    line = line .. " · " .. status:gsub("_", " ")
  end
  if status == "failed" and not (util.nn(data.rawOutput) or data.output) then
    local text = util.one_line(util.content_text(data.content), 80)
    if text ~= "" then
      line = line .. ": " .. text
    end
  end
  return line
end

local function client_root(chat)
  local c = vim.lsp.get_client_by_id(chat.client_id)
  return c and require("agent_ls.client").client_root(c) or nil
end

--- The last lines of a command's output, at most OUTPUT_LINES lines and OUTPUT_BYTES bytes.
local function tail(text)
  local lines = vim.split((text:gsub("\n+$", "")), "\n", { plain = true })
  lines = vim.list_slice(lines, math.max(1, #lines - OUTPUT_LINES + 1))
  local size = 0
  for i = #lines, 1, -1 do
    size = size + #lines[i] + 1
    if size > OUTPUT_BYTES then
      return vim.list_slice(lines, i + 1)
    end
  end
  return lines
end

--- The output lines a tool line shows under it: a command's output tail (the `content` of the
--- tool_call_update that carries its `rawOutput`, or on reload the tool_result's text), or nil
--- (other tools, a command that never ran).
local function output_lines(data)
  if not (util.nn(data.rawOutput) or data.output) then
    return nil
  end
  local text = data.output or util.content_text(data.content)
  if text == "" then
    return nil
  end
  return vim.tbl_map(function(l)
    return M.OUTPUT_PREFIX .. l
  end, tail(text))
end

--- Writes the tool line at `row` and the output under it (replacing `old_count` output lines);
--- returns the number of output lines now there.
local function write_tool(chat, row, data, old_count)
  local lines = { tool_line(data, client_root(chat)) }
  local out = output_lines(data) or {}
  vim.list_extend(lines, out)
  vim.api.nvim_buf_set_lines(chat.buf, row, row + 1 + (old_count or 0), false, lines)
  return #out
end

---@param chat agent_ls.Chat
local function render_tool(chat, id, fields)
  id = id or ("anon" .. vim.uv.hrtime())
  local entry = chat.tools[id]
  if entry then
    for k, v in pairs(fields) do
      if v ~= vim.NIL and v ~= nil then
        entry.data[k] = v
      end
    end
    local pos = vim.api.nvim_buf_get_extmark_by_id(chat.buf, ns_tools, entry.mark, {})
    if pos[1] then
      entry.output_count = write_tool(chat, pos[1], entry.data, entry.output_count)
      -- Replacing the line moves the mark off it: put it back.
      vim.api.nvim_buf_set_extmark(chat.buf, ns_tools, pos[1], 0, { id = entry.mark })
      return
    end
  end
  open_agent(chat)
  if chat.last == "agent" or chat.last == "thought" or chat.last == "note" then
    insert_lines(chat, { "" })
  end
  local data = entry and entry.data or vim.deepcopy(fields)
  local row = insert_lines(chat, { "" })
  local count = write_tool(chat, row, data, 0)
  local mark = vim.api.nvim_buf_set_extmark(chat.buf, ns_tools, row, 0, {})
  chat.tools[id] = { mark = mark, data = data, output_count = count }
  chat.last = "tool"
end

--- A reloaded tool result: a failed tool's line says so; a command shows its output tail (the
--- stored result starts with how it ended: that line goes last, as it streamed).
local function tool_result(chat, block)
  local entry = chat.tools[block.tool_use_id]
  local fields = {}
  if block.is_error then
    fields.status = "failed"
    fields.content = block.content
  end
  if entry and util.nn(entry.data.kind) == "execute" then
    local lines = vim.split(util.content_text(block.content), "\n", { plain = true })
    local first = lines[1] or ""
    if first:match("^Exit code") or first:match("^Killed by") or first:match("^Timed out") then
      table.remove(lines, 1)
      lines[#lines + 1] = (first:gsub(" %(no output%)$", ""))
      fields.output = table.concat(lines, "\n")
    end
  end
  if next(fields) then
    render_tool(chat, block.tool_use_id, fields)
  end
end

--- A code fence longer than any run of backticks in `text` (so the text cannot close it).
local function fence_for(text)
  local longest = 0
  for run in text:gmatch("`+") do
    longest = math.max(longest, #run)
  end
  return string.rep("`", math.max(3, longest + 1))
end

--- The user's prompt goes in a fenced block: markdown in it is shown as typed, never concealed
--- ("Add a __str__" stays "Add a __str__").
local function user_message(chat, text, entry_id)
  if chat.untitled and text ~= "" then
    -- An unnamed session is titled by its first message (as :AgentSessions shows it).
    chat.untitled = false
    vim.api.nvim_buf_set_lines(chat.buf, 0, 1, false, { "# " .. util.one_line(text, 60) })
  end
  local fence = fence_for(text)
  local lines = { "", "## You", fence .. "text" }
  vim.list_extend(lines, vim.split(text, "\n", { plain = true }))
  lines[#lines + 1] = fence
  local row = insert_lines(chat, lines)
  chat.users[vim.api.nvim_buf_set_extmark(chat.buf, ns_users, row + 1, 0, {})] = { entry_id = entry_id, text = text }
  chat.in_agent = false
  chat.ended = false
  chat.last = "user"
end

local function agent_text(chat, text)
  open_agent(chat)
  if chat.last ~= "agent" then
    if chat.last == "tool" or chat.last == "thought" or chat.last == "note" then
      insert_lines(chat, { "", "" })
    else
      insert_lines(chat, { "" })
    end
    chat.last = "agent"
  end
  append_text(chat, text)
end

local function thought_text(chat, text)
  open_agent(chat)
  if chat.last ~= "thought" then
    if chat.last ~= "agent_heading" then
      insert_lines(chat, { "" })
    end
    insert_lines(chat, { "> " })
    chat.last = "thought"
  end
  append_text(chat, text, "> ")
end

local function note(chat, line)
  if chat.last == "agent" or chat.last == "thought" then
    insert_lines(chat, { "" })
  end
  insert_lines(chat, { line })
  chat.last = "note"
end

--- How a turn ended when it did not end normally: its stop reason and error (the same lines
--- live, from the turn_end update or the prompt's result, and reloaded, from the turn_end item).
local function end_marker(chat, reason, problem)
  if chat.last ~= "agent" and chat.last ~= "thought" then
    note(chat, "") -- after text, note() leaves the blank line itself
  end
  note(chat, "_(turn ended: " .. reason:gsub("_", " ") .. ")_")
  if problem then
    note(chat, "**error:** " .. util.one_line(util.err_message(problem), 300))
  end
  chat.in_agent = false
  chat.ended = true
end

--- A checkpoint id for people: the entry part of SESSION:ENTRY, at most 8 characters.
function M.short_id(checkpoint_id)
  local entry = tostring(checkpoint_id):match(":([^:]+)$") or tostring(checkpoint_id)
  return entry:sub(1, 8)
end

local function checkpoint_line(cp)
  local id = util.nn(cp.checkpointId) or "?"
  local files = util.nn(cp.files) or {}
  local count = string.format("%d file%s", #files, #files == 1 and "" or "s")
  if (util.nn(cp.checkpointKind) or util.nn(cp.kind)) == "undo" then
    return string.format("- ↶ undo point %s: %s", M.short_id(id), count)
  end
  return string.format("- ✓ checkpoint %s: %s", M.short_id(id), count)
end

--- A checkpoint line; its full id is kept in an extmark (<CR> on the line shows the diff).
local function checkpoint_note(chat, cp)
  note(chat, checkpoint_line(cp))
  local id = util.nn(cp.checkpointId)
  if id then
    local row = sep_row(chat) - 1
    local mark = vim.api.nvim_buf_set_extmark(chat.buf, ns_checkpoints, row, 0, {})
    chat.checkpoints[mark] = id
  end
end

--- The full checkpoint id of the checkpoint line at 0-based `row`, or nil.
function M.checkpoint_at(chat, row)
  for _, m in ipairs(vim.api.nvim_buf_get_extmarks(chat.buf, ns_checkpoints, { row, 0 }, { row, -1 }, {})) do
    if chat.checkpoints[m[1]] then
      return chat.checkpoints[m[1]]
    end
  end
end

local function header_lines(info, has_more)
  local lines = {}
  if info then
    local name = util.nn(info.name)
    local title = name or util.one_line(info.firstMessage, 60)
    if title == "" then
      title = "new session"
    end
    lines[1] = "# " .. title
    lines[2] = "_session " .. (util.nn(info.sessionId) or "?") .. "_"
    local parent = util.nn(info.parentSessionId)
    if parent then
      lines[2] = "_session " .. (util.nn(info.sessionId) or "?") .. " · ⑂ fork of " .. parent .. "_"
    end
  else
    lines[1] = "# agent-ls"
    lines[2] = "_no session yet: type a prompt below, or :AgentSessions_"
  end
  if has_more then
    lines[#lines + 1] = "_(earlier messages not shown)_"
  end
  return lines
end

--- Moves the cursor to the next (dir 1) or previous (dir -1) "## You" / "## Agent" heading.
local function jump_message(chat, dir)
  local row = vim.api.nvim_win_get_cursor(0)[1]
  local lines = vim.api.nvim_buf_get_lines(chat.buf, 0, sep_row(chat), false)
  local i = row + dir
  while i >= 1 and i <= #lines do
    if lines[i] == "## You" or lines[i] == "## Agent" then
      vim.api.nvim_win_set_cursor(0, { i, 0 })
      return true
    end
    i = i + dir
  end
  return false
end

--- The user message at 0-based `row` (its "## You" line or any line of its block):
--- {entry_id, text, row}, or nil.
function M.user_at(chat, row)
  local marks = vim.api.nvim_buf_get_extmarks(chat.buf, ns_users, { row, 0 }, 0, { limit = 1 })
  local m = marks[1]
  local msg = m and chat.users[m[1]]
  if not msg or m[2] >= sep_row(chat) then
    return nil
  end
  -- "## You", the opening fence, the text, the closing fence.
  if row > m[2] + #vim.split(msg.text, "\n", { plain = true }) + 2 then
    return nil
  end
  return { entry_id = msg.entry_id, text = msg.text, row = m[2] }
end

--- The text of the user message `entry_id` the chat shows, or nil.
function M.user_text(client_id, entry_id)
  local chat = M.get(client_id)
  for _, msg in pairs(chat and chat.users or {}) do
    if msg.entry_id == entry_id then
      return msg.text
    end
  end
end

--- The entry id of the last user message the chat shows, or nil.
function M.last_user_entry(client_id)
  local chat = M.get(client_id)
  if not chat then
    return nil
  end
  local marks = vim.api.nvim_buf_get_extmarks(chat.buf, ns_users, { sep_row(chat), 0 }, 0, { limit = 1 })
  local msg = marks[1] and chat.users[marks[1][1]]
  return msg and msg.entry_id or nil
end

--- Removes the user message `entry_id` and everything after it from the transcript (the
--- conversation went back to before it). Returns whether it was shown.
function M.truncate_from(client_id, entry_id)
  local chat = M.get(client_id)
  if not chat then
    return false
  end
  for mark, msg in pairs(chat.users) do
    if msg.entry_id == entry_id then
      local pos = vim.api.nvim_buf_get_extmark_by_id(chat.buf, ns_users, mark, {})
      if pos[1] then
        -- From the blank line above "## You" to the separator.
        vim.api.nvim_buf_set_lines(chat.buf, math.max(pos[1] - 1, 0), sep_row(chat), false, {})
        chat.last = "end"
        chat.in_agent = false
        chat.ended = false
        follow(chat, true)
        return true
      end
    end
  end
  return false
end

--- Shows (or clears) the "editing an earlier message" line on the separator.
local function show_editing(chat)
  vim.api.nvim_buf_clear_namespace(chat.buf, ns_edit, 0, -1)
  if chat.editing then
    vim.api.nvim_buf_set_extmark(chat.buf, ns_edit, sep_row(chat), 0, {
      virt_lines = {
        {
          {
            "✎ editing an earlier message: sending replaces it and what followed"
              .. " (kept as a branch; files stay as they are)",
            "WarningMsg",
          },
        },
      },
    })
  end
end

--- Edit and resend: the user message under the cursor goes to the prompt area; sending it
--- replaces that message (agent/session/prompt with replaceEntryId).
function M.edit_message(client_id, row)
  local chat = M.get(client_id)
  local msg = chat and M.user_at(chat, row)
  if not msg or not msg.entry_id then
    util.warn("no message of yours here: put the cursor on one (## You)")
    return false
  end
  chat.editing = { entry_id = msg.entry_id, text = msg.text }
  M.set_input(client_id, msg.text)
  show_editing(chat)
  for _, win in ipairs(vim.fn.win_findbuf(chat.buf)) do
    vim.api.nvim_win_set_cursor(win, { vim.api.nvim_buf_line_count(chat.buf), 0 })
  end
  return true
end

--- The fenced code block around the cursor (or the next one below it): its lines, no fences.
function M.code_block_at(chat, row)
  local lines = vim.api.nvim_buf_get_lines(chat.buf, 0, sep_row(chat), false)
  local open, fence
  for i = 1, #lines do
    local f = lines[i]:match("^(```+)")
    if f and not open then
      open, fence = i, f
    elseif open and lines[i] == fence then
      if i >= row then
        return vim.list_slice(lines, open + 1, i - 1)
      end
      open, fence = nil, nil
    end
  end
end

--- The file a tool line names (its first location), or nil.
function M.tool_file_at(chat, row)
  for _, m in ipairs(vim.api.nvim_buf_get_extmarks(chat.buf, ns_tools, { row, 0 }, { row, -1 }, {})) do
    for _, entry in pairs(chat.tools) do
      if entry.mark == m[1] then
        local data = entry.data
        for _, loc in ipairs(util.nn(data.locations) or {}) do
          if type(loc) == "table" and util.nn(loc.path) then
            return loc.path
          end
        end
        for _, item in ipairs(type(util.nn(data.content)) == "table" and data.content or {}) do
          if type(item) == "table" and util.nn(item.path) then
            return item.path
          end
        end
        local raw = util.nn(data.rawInput)
        return type(raw) == "table" and util.nn(raw.path) or nil
      end
    end
  end
end

--- Opens `path` (relative to the workspace root when not absolute) in the window the user
--- came from, or a split when the chat is the only window.
local function open_file(chat, path)
  if not path:match("^/") then
    path = (client_root(chat) or vim.fn.getcwd()) .. "/" .. path
  end
  local chat_win = vim.api.nvim_get_current_win()
  vim.cmd.wincmd("p")
  if vim.api.nvim_get_current_win() == chat_win then
    vim.cmd("leftabove vsplit")
  end
  vim.cmd.edit(vim.fn.fnameescape(path))
end

local function set_keymaps(chat)
  local k = config.options.keymaps or {}
  local buf = chat.buf
  local function map(mode, lhs, rhs, desc)
    if lhs then
      vim.keymap.set(mode, lhs, rhs, { buffer = buf, desc = desc, nowait = true })
    end
  end
  map("n", k.chat_send, function()
    local cp = M.checkpoint_at(chat, vim.api.nvim_win_get_cursor(0)[1] - 1)
    if cp then
      require("agent_ls.checkpoints").diff(cp)
      return
    end
    M.send(chat.client_id)
  end, "agent_ls: send the prompt (on a checkpoint line: show its diff)")
  map("i", k.chat_send_insert, function()
    vim.cmd.stopinsert()
    M.send(chat.client_id)
  end, "agent_ls: send the prompt")
  map("n", k.chat_cancel, function()
    require("agent_ls.turn").cancel()
  end, "agent_ls: cancel the running turn")
  map("n", k.chat_next, function()
    jump_message(chat, 1)
  end, "agent_ls: next message")
  map("n", k.chat_prev, function()
    jump_message(chat, -1)
  end, "agent_ls: previous message")
  map("n", k.chat_edit, function()
    M.edit_message(chat.client_id, vim.api.nvim_win_get_cursor(0)[1] - 1)
  end, "agent_ls: edit the message under the cursor and resend it")
  map("n", k.chat_rewind, function()
    local msg = M.user_at(chat, vim.api.nvim_win_get_cursor(0)[1] - 1)
    if msg and msg.entry_id then
      require("agent_ls.rewind").rewind(msg.entry_id)
    else
      util.warn("no message of yours here: put the cursor on one (## You)")
    end
  end, "agent_ls: rewind to before the message under the cursor")
  map("n", k.chat_yank_code, function()
    local block = M.code_block_at(chat, vim.api.nvim_win_get_cursor(0)[1])
    if not block then
      util.warn("no code block here")
      return
    end
    vim.fn.setreg(vim.v.register, block, "l")
    util.notify(("yanked %d line%s of code"):format(#block, #block == 1 and "" or "s"))
  end, "agent_ls: yank the code block under the cursor")
  map("n", k.chat_open_file, function()
    local path = M.tool_file_at(chat, vim.api.nvim_win_get_cursor(0)[1] - 1)
    if path then
      open_file(chat, path)
    else
      pcall(vim.cmd, "normal! gf")
    end
  end, "agent_ls: open the file of the tool line")
  map("n", k.chat_close, function()
    if #vim.api.nvim_list_wins() > 1 then
      vim.api.nvim_win_close(0, false)
    else
      vim.cmd.bprevious()
    end
  end, "agent_ls: close the chat window")
end

--- The chat for a client, created (hidden) when missing.
---@return agent_ls.Chat
function M.ensure(client_id)
  local chat = M.chats[client_id]
  if valid(chat) then
    return chat
  end
  -- The chat of a client that exited (a server restart) is taken over.
  while #M.orphans > 0 do
    chat = table.remove(M.orphans)
    if valid(chat) then
      chat.client_id = client_id
      vim.b[chat.buf].agent_ls_client = client_id
      M.chats[client_id] = chat
      return chat
    end
  end
  local buf = vim.api.nvim_create_buf(false, true)
  local name = "agent-ls://chat"
  if vim.fn.bufexists(name) == 1 then
    name = name .. "/" .. client_id
  end
  pcall(vim.api.nvim_buf_set_name, buf, name)
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "hide"
  vim.bo[buf].swapfile = false
  vim.bo[buf].filetype = M.filetype
  if not pcall(vim.treesitter.start, buf, "markdown") then
    vim.bo[buf].syntax = "markdown"
  end
  vim.b[buf].agent_ls_client = client_id
  vim.bo[buf].omnifunc = "v:lua.require'agent_ls.context'.omnifunc"
  local lines = header_lines(nil)
  vim.list_extend(lines, { "", separator(), "" })
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  chat = {
    buf = buf,
    client_id = client_id,
    sep_mark = vim.api.nvim_buf_set_extmark(buf, ns, #lines - 2, 0, {
      line_hl_group = "AgentLsSeparator",
    }),
    in_agent = false,
    tools = {},
    checkpoints = {},
    users = {},
    entries = {},
  }
  M.chats[client_id] = chat
  set_keymaps(chat)
  vim.api.nvim_create_autocmd({ "TextChanged", "TextChangedI" }, {
    buffer = buf,
    callback = function()
      M.show_refs(chat.client_id)
    end,
  })
  return chat
end

function M.get(client_id)
  local chat = M.chats[client_id]
  return valid(chat) and chat or nil
end

local render_entry

--- Renders one TranscriptItem from agent/session/switch or agent/session/history; its first
--- row is marked with its entry id (a search hit opens there).
local function render_item(chat, item)
  item = util.denull(item) or {}
  local start = sep_row(chat)
  render_entry(chat, item)
  if item.entryId and sep_row(chat) > start then
    chat.entries[item.entryId] = vim.api.nvim_buf_set_extmark(chat.buf, ns_entries, start, 0, {})
  end
end

--- What render_item shows of one item.
function render_entry(chat, item)
  local update = item.update
  if type(update) == "table" and (update.kind or update.sessionUpdate) then
    M.apply_update(chat, update)
    return
  end
  local role = item.role or item.kind or item.type
  if role == "user" or role == "user_message" then
    user_message(chat, util.content_text(item.content or item.text), item.entryId)
  elseif role == "assistant" or role == "agent" or role == "agent_message" then
    local content = item.content
    if type(content) == "string" or content == nil then
      agent_text(chat, content or item.text or "")
      return
    end
    if content.type then
      content = { content }
    end
    -- The server titles each tool_use block in `toolCalls`, as it titled the live tool call.
    local calls = {}
    for _, call in ipairs(util.nn(item.toolCalls) or {}) do
      calls[call.toolCallId] = call
    end
    for _, block in ipairs(content) do
      if block.type == "text" then
        agent_text(chat, block.text or "")
      elseif block.type == "thinking" then
        thought_text(chat, block.thinking or block.text or "")
      elseif block.type == "tool_use" then
        local call = calls[block.id] or {}
        local title = util.nn(call.title) or block.name
        render_tool(chat, block.id, {
          title = title,
          kind = util.nn(call.toolKind),
          locations = util.nn(call.locations),
          rawInput = block.input,
          status = "completed",
        })
      end
    end
  elseif role == "tool" or role == "tool_call" or role == "tool_result" then
    if item.toolCallId or item.title then
      render_tool(chat, item.toolCallId, item)
      return
    end
    for _, block in ipairs(type(item.content) == "table" and item.content or {}) do
      if block.type == "tool_result" then
        tool_result(chat, block)
      end
    end
  elseif role == "turn_end" then
    end_marker(chat, item.stopReason or "error", item.error)
  elseif role == "checkpoint" then
    checkpoint_note(chat, item)
  elseif role == "compaction" then
    note(chat, "_(earlier conversation summarized)_")
  end
end

--- Applies one `update` of agent/session/update to the chat.
function M.apply_update(chat, update)
  local kind = update.kind or update.sessionUpdate
  if kind == "user_message" or kind == "user_message_chunk" then
    if kind == "user_message_chunk" and chat.last == "user" then
      -- Inside the fence: the chunk joins the line above the closing fence.
      local row = sep_row(chat) - 2
      local line = vim.api.nvim_buf_get_lines(chat.buf, row, row + 1, false)[1] or ""
      local parts = vim.split(util.content_text(update.content or update.text), "\n", { plain = true })
      vim.api.nvim_buf_set_text(chat.buf, row, #line, row, #line, parts)
    else
      user_message(chat, util.content_text(update.content or update.text), util.nn(update.entryId))
    end
  elseif kind == "agent_message_chunk" then
    agent_text(chat, util.content_text(update.content or update.text))
  elseif kind == "agent_thought_chunk" then
    thought_text(chat, util.content_text(update.content or update.text))
  elseif kind == "tool_call" or kind == "tool_call_update" then
    -- `kind` names the update; the tool's own kind (ACP) comes as toolKind or in a nested toolCall.
    local nested = type(update.toolCall) == "table"
    local fields = vim.deepcopy(nested and update.toolCall or update)
    fields.kind = fields.toolKind or (nested and fields.kind) or nil
    render_tool(chat, fields.toolCallId or update.toolCallId, fields)
  elseif kind == "checkpoint" then
    checkpoint_note(chat, update.checkpoint or update)
  elseif kind == "turn_end" and not chat.ended then
    -- (not again when the prompt's result came first and marked it)
    end_marker(chat, update.stopReason or "error", update.error)
  elseif kind == "session_info" then
    local info = update.session or update
    if info.name then
      M.set_title(chat.client_id, info.name)
    end
  end
end

function M.set_title(client_id, name)
  local chat = M.get(client_id)
  if chat and name and name ~= "" then
    chat.untitled = false
    vim.api.nvim_buf_set_lines(chat.buf, 0, 1, false, { "# " .. name })
  end
end

--- The last entry id of a page of items.
local function last_entry(items)
  local last = items[#items]
  return last and util.nn(last.entryId) or nil
end

--- Replaces the transcript with a session's items (the typed prompt is kept).
function M.load(client_id, info, items, has_more)
  local chat = M.ensure(client_id)
  local row = sep_row(chat)
  for _, n in ipairs({ ns_tools, ns_checkpoints, ns_users, ns_entries }) do
    vim.api.nvim_buf_clear_namespace(chat.buf, n, 0, -1)
  end
  local lines = header_lines(info, has_more)
  lines[#lines + 1] = ""
  vim.api.nvim_buf_set_lines(chat.buf, 0, row, false, lines)
  chat.session_id = info and util.nn(info.sessionId) or nil
  chat.untitled = info ~= nil and not util.nn(info.name) and util.one_line(info.firstMessage, 60) == ""
  chat.last = nil
  chat.in_agent = false
  chat.tools = {}
  chat.checkpoints = {}
  chat.users = {}
  chat.entries = {}
  chat.ended = false
  chat.editing = nil
  vim.api.nvim_buf_clear_namespace(chat.buf, ns_edit, 0, -1)
  chat.last_entry = last_entry(items or {})
  for _, item in ipairs(items or {}) do
    local ok, e = pcall(render_item, chat, item)
    if not ok then
      note(chat, "_(could not show an item: " .. tostring(e) .. ")_")
    end
  end
  follow(chat, true)
end

--- The transcript of a session as the chat shows it (for pickers' previews): rendered into a
--- scratch buffer that is thrown away.
function M.transcript_lines(client_id, info, items, has_more)
  local buf = vim.api.nvim_create_buf(false, true)
  local lines = header_lines(info, has_more)
  vim.list_extend(lines, { "", separator() })
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  local chat = {
    buf = buf,
    client_id = client_id,
    sep_mark = vim.api.nvim_buf_set_extmark(buf, ns, #lines - 1, 0, {}),
    in_agent = false,
    tools = {},
    checkpoints = {},
    users = {},
    entries = {},
  }
  for _, item in ipairs(items or {}) do
    if not pcall(render_item, chat, item) then
      note(chat, "_(an item that could not be shown)_")
    end
  end
  local out = vim.api.nvim_buf_get_lines(buf, 0, sep_row(chat), false)
  vim.api.nvim_buf_delete(buf, { force = true })
  return out
end

--- Re-renders the shown session from a fresh page when its last entry changed (another process
--- added to it). Windows that followed the end keep following; the others keep their view.
--- Returns whether it re-rendered.
function M.refresh(client_id, info, items, has_more)
  local chat = M.get(client_id)
  if not chat or chat.session_id ~= info.sessionId or last_entry(items) == chat.last_entry then
    return false
  end
  local views = {}
  for _, win in ipairs(vim.fn.win_findbuf(chat.buf)) do
    if vim.api.nvim_win_get_cursor(win)[1] - 1 < sep_row(chat) then
      views[win] = vim.api.nvim_win_call(win, vim.fn.winsaveview)
    end
  end
  M.load(client_id, info, items, has_more)
  for win, view in pairs(views) do
    vim.api.nvim_win_call(win, function()
      vim.fn.winrestview(view)
    end)
  end
  return true
end

--- Puts the cursor of the chat's windows on the item `entry_id` (its first non-blank line, at
--- the top of the window): a search hit. Returns whether the chat shows that entry.
function M.focus_entry(client_id, entry_id)
  local chat = M.get(client_id)
  local mark = chat and chat.entries[entry_id]
  local pos = mark and vim.api.nvim_buf_get_extmark_by_id(chat.buf, ns_entries, mark, {})
  if not (pos and pos[1]) then
    return false
  end
  local row = pos[1]
  local lines = vim.api.nvim_buf_get_lines(chat.buf, row, sep_row(chat), false)
  for i, line in ipairs(lines) do
    if line ~= "" then
      row = row + i - 1
      break
    end
  end
  for _, win in ipairs(vim.fn.win_findbuf(chat.buf)) do
    vim.api.nvim_win_set_cursor(win, { row + 1, 0 })
    vim.api.nvim_win_call(win, function()
      vim.cmd("normal! zt")
    end)
  end
  return true
end

--- The next update of session `session_id` first removes the user message `entry_id` and what
--- followed it (edit and resend, retry: the new turn replaces them).
function M.truncate_on_update(client_id, session_id, entry_id)
  local chat = M.get(client_id)
  if chat and chat.session_id == session_id then
    chat.pending_truncate = entry_id
  end
end

--- An agent/session/update notification for `client_id` (already de-nulled).
function M.on_update(client_id, params)
  local chat = M.get(client_id)
  if not chat or chat.session_id ~= params.sessionId then
    return
  end
  if chat.pending_truncate then
    M.truncate_from(client_id, chat.pending_truncate)
    chat.pending_truncate = nil
  end
  local update = params.update or {}
  local entry = util.nn(update.entryId) or (type(update.checkpoint) == "table" and util.nn(update.checkpoint.entryId))
  if entry then
    chat.last_entry = entry
  end
  M.apply_update(chat, update)
  follow(chat)
end

--- The prompt's result arrived: mark how the turn ended when it did not end normally.
function M.turn_end(client_id, session_id, result, err)
  local chat = M.get(client_id)
  if not chat or chat.session_id ~= session_id then
    return
  end
  chat.pending_truncate = nil
  if err then
    note(chat, "")
    note(chat, "**error:** " .. util.err_message(err))
  elseif not chat.ended then
    -- A server that streams turn_end marked it already; an older one says it in the result.
    local reason = util.nn(result and result.stopReason) or "end_turn"
    local problem = util.nn(result and result.error)
    if reason ~= "end_turn" or problem then
      end_marker(chat, reason, problem)
    end
  end
  chat.in_agent = false
  chat.last = "end"
  follow(chat)
end

--- A line about something that happened outside the stream (a permission answer, a revert).
function M.add_note(client_id, text)
  local chat = M.get(client_id)
  if chat then
    note(chat, text)
    follow(chat)
  end
end

--- Shows the prompts waiting for the running turn to end, as virtual lines above the separator.
function M.show_queue(client_id, texts)
  local chat = M.get(client_id)
  if not chat then
    return
  end
  vim.api.nvim_buf_clear_namespace(chat.buf, ns_queue, 0, -1)
  if #texts == 0 then
    return
  end
  local lines = {}
  for _, text in ipairs(texts) do
    lines[#lines + 1] = { { "⏳ queued: " .. util.one_line(text, 70), "Comment" } }
  end
  vim.api.nvim_buf_set_extmark(chat.buf, ns_queue, sep_row(chat), 0, {
    virt_lines = lines,
    virt_lines_above = true,
  })
  follow(chat)
end

--- Puts text back at the start of the prompt area (a queued prompt whose turn never came).
function M.restore_input(client_id, text)
  local typed = M.input(client_id)
  M.set_input(client_id, typed ~= "" and (text .. "\n" .. typed) or text)
end

--- Text typed below the separator.
function M.input(client_id)
  local chat = M.get(client_id)
  if not chat then
    return ""
  end
  local lines = vim.api.nvim_buf_get_lines(chat.buf, sep_row(chat) + 1, -1, false)
  return vim.trim(table.concat(lines, "\n"))
end

function M.set_input(client_id, text)
  local chat = M.ensure(client_id)
  local row = sep_row(chat)
  vim.api.nvim_buf_set_lines(chat.buf, row + 1, -1, false, vim.split(text or "", "\n"))
end

--- Adds a context line (`> @path…`) to the top of the prompt area, after the ones there.
function M.add_context(client_id, ref)
  local chat = M.ensure(client_id)
  local row = sep_row(chat) + 1
  local lines = vim.api.nvim_buf_get_lines(chat.buf, row, -1, false)
  local at = 0
  while lines[at + 1] and lines[at + 1]:match("^>%s") do
    if vim.trim(lines[at + 1]:sub(2)) == ref then
      return false
    end
    at = at + 1
  end
  vim.api.nvim_buf_set_lines(chat.buf, row + at, row + at, false, { "> " .. ref })
  return true
end

--- Shows what the #/@ references typed in the prompt stand for, as a virtual line under it
--- ("context: lib/a.py:3-9 · lib/b.py"), so what goes along is visible before sending.
function M.show_refs(client_id)
  local chat = M.get(client_id)
  if not chat then
    return
  end
  vim.api.nvim_buf_clear_namespace(chat.buf, ns_refs, 0, -1)
  local context_mod = require("agent_ls.context")
  local _, body = context_mod.split(M.input(client_id))
  if chat.editing and body == "" then
    chat.editing = nil -- emptied: a new prompt again
    show_editing(chat)
  end
  local entries = context_mod.extract(body)
  if #entries == 0 then
    return
  end
  local names = vim.tbl_map(context_mod.describe, entries)
  vim.api.nvim_buf_set_extmark(chat.buf, ns_refs, vim.api.nvim_buf_line_count(chat.buf) - 1, 0, {
    virt_lines = { { { "context: " .. table.concat(names, " · "), "Comment" } } },
  })
end

--- Sends the typed prompt; its context lines and #/@ references go along as context.
function M.send(client_id)
  local context_mod = require("agent_ls.context")
  local text = M.input(client_id)
  local refs, body = context_mod.split(text)
  if body == "" then
    util.warn("type a prompt below the separator first")
    return
  end
  local c = vim.lsp.get_client_by_id(client_id)
  local context, problems = context_mod.extract(table.concat(refs, " ") .. "\n" .. body, c and c.offset_encoding)
  if #problems > 0 then
    util.warn(table.concat(problems, "; ") .. " (the prompt is kept: fix it and send again)")
    return
  end
  local chat = M.get(client_id)
  local editing = chat and chat.editing
  if chat then
    chat.editing = nil
    show_editing(chat)
  end
  M.set_input(client_id, "")
  M.show_refs(client_id)
  require("agent_ls.turn").prompt(body, { context = context, replace_entry_id = editing and editing.entry_id })
end

local function open_window(buf)
  local o = config.options.chat or {}
  local pos = o.position or "right"
  local size = o.size or 0.4
  local vertical = pos == "right" or pos == "left"
  if size < 1 then
    size = math.floor((vertical and vim.o.columns or vim.o.lines) * size)
  end
  if pos == "current" then
    vim.api.nvim_win_set_buf(0, buf)
  elseif pos == "tab" then
    vim.cmd.tabnew()
    local scratch = vim.api.nvim_get_current_buf()
    vim.api.nvim_win_set_buf(0, buf)
    if scratch ~= buf and vim.api.nvim_buf_get_name(scratch) == "" then
      pcall(vim.api.nvim_buf_delete, scratch, {})
    end
  else
    local cmd = ({ right = "botright vsplit", left = "topleft vsplit", below = "botright split", above = "topleft split" })[pos]
      or "botright vsplit"
    vim.cmd(cmd)
    vim.api.nvim_win_set_buf(0, buf)
    if vertical then
      vim.api.nvim_win_set_width(0, size)
    else
      vim.api.nvim_win_set_height(0, size)
    end
  end
  local win = vim.api.nvim_get_current_win()
  vim.wo[win].wrap = true
  vim.wo[win].linebreak = true
  vim.wo[win].number = false
  vim.wo[win].relativenumber = false
  vim.wo[win].conceallevel = 2
  -- A command's output under its tool line is a closed fold (zo opens it).
  vim.wo[win].foldmethod = "expr"
  vim.wo[win].foldexpr = "v:lua.require'agent_ls.chat'.foldexpr(v:lnum)"
  vim.wo[win].foldtext = "v:lua.require'agent_ls.chat'.foldtext()"
  vim.wo[win].foldlevel = 0
  vim.wo[win].foldenable = true
  vim.wo[win].winbar = "%!v:lua.require'agent_ls.status'.winbar()"
  return win
end

--- 'foldexpr' of the chat's windows: command output lines fold under their tool line.
function M.foldexpr(lnum)
  local line = vim.fn.getline(lnum)
  return line:sub(1, #M.OUTPUT_PREFIX) == M.OUTPUT_PREFIX and "1" or "0"
end

--- 'foldtext': how many lines of output the fold holds, and its last line (how it ended).
function M.foldtext()
  local n = vim.v.foldend - vim.v.foldstart + 1
  local last = vim.fn.getline(vim.v.foldend):sub(#M.OUTPUT_PREFIX + 1)
  return ("%s⋯ %d line%s of output: %s (zo shows them)"):format(M.OUTPUT_PREFIX, n, n == 1 and "" or "s", last)
end

--- Shows the chat in a window (focusing an existing one) with the cursor on the prompt line.
function M.open(client_id)
  local chat = M.ensure(client_id)
  local wins = vim.fn.win_findbuf(chat.buf)
  local tab_wins = vim.api.nvim_tabpage_list_wins(0)
  local win
  for _, w in ipairs(wins) do
    if vim.tbl_contains(tab_wins, w) then
      win = w
      break
    end
  end
  if win then
    vim.api.nvim_set_current_win(win)
  else
    win = open_window(chat.buf)
  end
  pcall(vim.api.nvim_win_set_cursor, win, { vim.api.nvim_buf_line_count(chat.buf), 0 })
  return chat
end

vim.api.nvim_set_hl(0, "AgentLsSeparator", { default = true, link = "FoldColumn" })

return M
