-- Context in the prompt: `#buffer` (the file buffer you came from), `#selection` (its last
-- Visual selection) and `@path` (a file of the workspace) are sent as prompt context, the text
-- stays as typed. The chat's 'omnifunc' completes them (<C-x><C-o>, or any completion plugin
-- with an omnifunc source).
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
  for prefix, word in text:gmatch("()[#@]([%w%._%-/~]+)") do
    local sigil = text:sub(prefix, prefix)
    local before = prefix > 1 and text:sub(prefix - 1, prefix - 1) or " "
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
        local path = resolve((word:gsub("[.,;:]+$", "")))
        if vim.fn.filereadable(path) == 1 then
          add({ uri = vim.uri_from_fname(path) })
        else
          problems[#problems + 1] = "@" .. word .. ": no such file"
        end
      end
    end
  end
  return out, problems
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
