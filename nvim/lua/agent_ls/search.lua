-- :AgentSearch — full-text search over the sessions (agent/session/search); the picked hit opens
-- its session at that entry (agent/session/switch with focusEntryId), the cursor on it.
local client = require("agent_ls.client")
local config = require("agent_ls.config")
local state = require("agent_ls.state")
local util = require("agent_ls.util")

local M = {}

--- Byte offset in `s` of the UTF-16 offset `i` (the server counts highlights in UTF-16).
local function byte_index(s, i)
  local ok, b = pcall(vim.str_byteindex, s, "utf-16", i, false)
  if ok and type(b) == "number" then
    return b
  end
  ok, b = pcall(vim.str_byteindex, s, i, true)
  return ok and b or math.min(i, #s)
end

--- The snippet with its highlights in ** (markdown bold), on one line.
function M.marked_snippet(hit)
  local s = (hit.snippet or ""):gsub("\n", " ")
  local out, at = {}, 0
  for _, h in ipairs(hit.highlights or {}) do
    local a, b = byte_index(s, h[1]), byte_index(s, h[2])
    if a >= at and b > a then
      out[#out + 1] = s:sub(at + 1, a) .. "**" .. s:sub(a + 1, b) .. "**"
      at = b
    end
  end
  out[#out + 1] = s:sub(at + 1)
  return table.concat(out)
end

--- One line for a hit: session │ role │ snippet │ age (the item that loads more says so).
function M.format(hit)
  if hit.more then
    return ("… more hits (the next %d)"):format(config.options.search_page)
  end
  return string.format(
    "%s │ %s │ %s │ %s",
    util.one_line(hit.sessionName or hit.sessionId, 24),
    hit.role or "?",
    util.one_line(hit.snippet, 90),
    util.age(hit.ts)
  )
end

--- The preview of a hit: where it is, and the snippet with the matches in bold.
function M.preview_lines(hit, root)
  local lines = {
    "# " .. (hit.sessionName or hit.sessionId),
    ("_%s · %s · %s_"):format(hit.role or "?", hit.ts or "", util.display_path(hit.workspace, root)),
    "",
  }
  vim.list_extend(lines, vim.split(M.marked_snippet(hit), "\n", { plain = true }))
  return lines
end

--- Opens the hit's session with its transcript reaching back to the entry; the chat's cursor goes
--- to it.
function M.open(c, hit, cb)
  local root = client.client_root(c)
  if hit.workspace and root and vim.fs.normalize(hit.workspace) ~= vim.fs.normalize(root) then
    util.warn(("that session is in another workspace (%s): open a file there, then :AgentSearch"):format(hit.workspace))
    return
  end
  local params = { sessionId = hit.sessionId, focusEntryId = hit.entryId }
  client.call(c, "agent/session/switch", params, function(res)
    require("agent_ls.sessions").activate(c.id, res.session, res.items, res.hasMore)
    local chat = require("agent_ls.chat")
    chat.open(c.id)
    local focus = util.nn(res.focusEntryId) or hit.entryId
    local found = chat.focus_entry(c.id, focus)
    if not found then
      util.warn("the hit's entry is not in the transcript the server sent")
    end
    state.emit("SearchOpened", { client_id = c.id, hit = hit, found = found })
    if cb then
      cb(found)
    end
  end)
end

--- The picker over `hits` (and, when the server has more, an item that fetches the next page
--- and shows the picker again with them added).
local function pick(c, q, all, hits, cursor, cb)
  local root = client.client_root(c)
  local items = vim.list_extend({}, hits)
  if cursor then
    items[#items + 1] = { more = true }
  end
  local count = #hits > config.options.search_page and (" (%d hits)"):format(#hits) or ""
  require("agent_ls.picker").select(items, {
    prompt = "Sessions mentioning “" .. q .. "”" .. count,
    kind = "agent_ls_search_hit",
    format_item = M.format,
    preview_title = "Hit",
    preview = function(hit, done)
      done(hit.more and { "Pick this to load more hits." } or M.preview_lines(hit, root))
    end,
  }, function(hit)
    if hit and hit.more then
      M.fetch(c, q, all, cursor, function(more, next_cursor)
        pick(c, q, all, vim.list_extend(vim.list_extend({}, hits), more), next_cursor, cb)
      end)
    elseif hit then
      M.open(c, hit, cb)
    end
  end)
end

--- One page of hits for `q` from `cursor` (nil: the first); on_page(hits, next_cursor|nil).
function M.fetch(c, q, all, cursor, on_page)
  local params = {
    query = q,
    limit = config.options.search_page,
    allWorkspaces = all or nil,
    cursor = cursor,
  }
  client.call(c, "agent/session/search", params, function(res)
    local hits = util.denull(res.hits) or {}
    state.emit("SearchResults", { client_id = c.id, query = q, hits = hits, cursor = cursor })
    on_page(hits, util.nn(res.nextCursor))
  end)
end

--- :AgentSearch[!] [query] — asks for the query when none is given; ! searches every workspace.
function M.search(query, all, cb)
  local function run(q)
    if not q or vim.trim(q) == "" then
      return
    end
    q = vim.trim(q)
    client.with_client(function(c)
      M.fetch(c, q, all, nil, function(hits, cursor)
        if #hits == 0 then
          util.notify("no session mentions “" .. q .. "”")
          return
        end
        pick(c, q, all, hits, cursor, cb)
      end)
    end)
  end
  if query and vim.trim(query) ~= "" then
    run(query)
  else
    vim.ui.input({ prompt = all and "Search every workspace's sessions: " or "Search sessions: " }, run)
  end
end

return M
