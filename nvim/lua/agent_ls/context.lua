-- Context in the prompt: `#buffer` (the file buffer you came from), `#selection` (its last
-- Visual selection), `@path` (a file of the workspace) and `@path:12-20` (lines of it) are sent
-- as prompt context, the text stays as typed. Context lines (`> @path…`) at the top of the chat's
-- prompt area (:AgentAdd puts them there) are sent as context only. The chat's 'omnifunc'
-- completes them (<C-x><C-o>, or any completion plugin with an omnifunc source).
local client = require("agent_ls.client")

local M = {}

M.last_buf = nil -- the last file buffer entered (what #buffer and #selection mean)

local function is_file_buf(buf)
  return vim.api.nvim_buf_is_valid(buf) and vim.bo[buf].buftype == "" and vim.api.nvim_buf_get_name(buf) ~= ""
end

--- BufEnter: remembers the last file buffer.
function M.track(buf)
  if is_file_buf(buf) then
    M.last_buf = buf
  end
end

local function root()
  local c = client.current()
  return (c and client.client_root(c)) or vim.fn.getcwd()
end

local function resolve(path)
  if not path:match("^/") and not path:match("^~") then
    path = root() .. "/" .. path
  end
  return vim.fn.fnamemodify(path, ":p")
end

--- The context entries {uri, range?} the text's #buffer, #selection and @path name, and a list
--- of problems (a name that matches nothing), in order of appearance, without duplicates.
function M.extract(text, encoding)
  local out, problems, seen = {}, {}, {}
  local function add(entry)
    local key = vim.json.encode(entry)
    if not seen[key] then
      seen[key] = true
      out[#out + 1] = entry
    end
  end
  local buf = M.last_buf
  local has_buf = buf and is_file_buf(buf)
  for prefix, word in text:gmatch("()[#@]([%w%._%-/~:]+)") do
    local sigil = text:sub(prefix, prefix)
    local before = prefix > 1 and text:sub(prefix - 1, prefix - 1) or " "
    word = word:gsub("[.,;:]+$", "")
    if before:match("%s") or before == "(" then
      if sigil == "#" and word == "buffer" then
        if has_buf then
          add({ uri = vim.uri_from_bufnr(buf) })
        else
          problems[#problems + 1] = "#buffer: no file buffer visited yet"
        end
      elseif sigil == "#" and word == "selection" then
        local s = has_buf and vim.api.nvim_buf_get_mark(buf, "<")
        if s and s[1] > 0 then
          local e = vim.api.nvim_buf_get_mark(buf, ">")
          local linewise = vim.fn.visualmode() ~= "v"
          add(require("agent_ls.turn").range_context(buf, s[1], e[1], linewise, encoding))
        else
          problems[#problems + 1] = "#selection: no Visual selection in the last file buffer"
        end
      elseif sigil == "@" then
        local name, first, last = word:match("^(.-):(%d+)%-?(%d*)$")
        local path = resolve(name or word)
        if vim.fn.filereadable(path) ~= 1 then
          problems[#problems + 1] = "@" .. word .. ": no such file"
        elseif first then
          first, last = tonumber(first), tonumber(last) or tonumber(first)
          -- Whole lines: the range ends at the start of the line after the last one.
          add({
            uri = vim.uri_from_fname(path),
            range = { start = { line = first - 1, character = 0 }, ["end"] = { line = last, character = 0 } },
          })
        else
          add({ uri = vim.uri_from_fname(path) })
        end
      end
    end
  end
  return out, problems
end

--- The prompt area's text split into its context lines (`> …` lines at the top) and the
--- prompt itself.
function M.split(text)
  local lines = vim.split(text, "\n", { plain = true })
  local refs = {}
  while lines[1] and lines[1]:match("^>%s") do
    refs[#refs + 1] = vim.trim(table.remove(lines, 1):sub(2))
  end
  return refs, vim.trim(table.concat(lines, "\n"))
end

--- The context line for lines `line1`..`line2` of `buf` (the whole file when line1 is nil).
function M.ref(buf, line1, line2)
  local path = require("agent_ls.util").display_path(vim.api.nvim_buf_get_name(buf), root())
  if not line1 then
    return "@" .. path
  end
  if line1 == line2 then
    return ("@%s:%d"):format(path, line1)
  end
  return ("@%s:%d-%d"):format(path, line1, line2)
end

--- A context entry for people: the path, and its lines when it has a range.
function M.describe(entry)
  local path = require("agent_ls.util").display_path(entry.uri, root())
  local r = entry.range
  if not r then
    return path
  end
  local last = r["end"].line + ((r["end"].character == 0 and r["end"].line > r.start.line) and 0 or 1)
  if last == r.start.line + 1 then
    return ("%s:%d"):format(path, last)
  end
  return ("%s:%d-%d"):format(path, r.start.line + 1, last)
end

--- Completion candidates for `base` ("#…" or "@…").
function M.candidates(base)
  if base:sub(1, 1) == "#" then
    return vim.tbl_filter(function(w)
      return w:sub(1, #base) == base
    end, { "#buffer", "#selection" })
  end
  local dir = root()
  local rest = base:sub(2)
  local items = {}
  for _, path in ipairs(vim.fn.globpath(dir, rest .. "*", false, true)) do
    local rel = path:sub(#dir + 2)
    if vim.fn.isdirectory(path) == 1 then
      rel = rel .. "/"
    end
    items[#items + 1] = { word = "@" .. rel, menu = "[agent_ls]" }
  end
  return items
end

--- 'omnifunc' of the chat buffer.
function M.omnifunc(findstart, base)
  if findstart == 1 then
    local start = require("agent_ls.completion").word_before(
      vim.api.nvim_get_current_line(),
      vim.api.nvim_win_get_cursor(0)[2]
    )
    return start or -3
  end
  return M.candidates(base)
end

return M
