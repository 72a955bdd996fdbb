-- Completion of #buffer, #selection and @path in the chat, for nvim-cmp and blink.cmp (the chat's
-- 'omnifunc' serves the built-in completion). Both ask agent_ls.context for the candidates.
local context = require("agent_ls.context")

local M = {}

local TRIGGERS = { "#", "@", "/" }

--- The #/@ word that ends at byte `col` of `line`: its 0-based start column and text, or nil.
function M.word_before(line, col)
  local before = line:sub(1, col)
  local start = before:find("[#@][%w%._%-/~]*$")
  if not start then
    return nil
  end
  local prev = start > 1 and before:sub(start - 1, start - 1) or " "
  if not (prev:match("%s") or prev == "(") then
    return nil
  end
  return start - 1, before:sub(start)
end

local function words(base)
  return vim.tbl_map(function(c)
    return type(c) == "table" and c.word or c
  end, context.candidates(base))
end

local function in_chat()
  return vim.bo.filetype == require("agent_ls.chat").filetype
end

-- nvim-cmp: registered as "agent_ls" by setup() when nvim-cmp is installed.
local cmp_source = {}

function cmp_source:is_available()
  return in_chat()
end

function cmp_source:get_trigger_characters()
  return TRIGGERS
end

function cmp_source:get_keyword_pattern()
  return [=[[#@][[:alnum:]._/~-]*]=]
end

function cmp_source:complete(params, callback)
  local line = params.context.cursor_before_line
  local start, base = M.word_before(line, #line)
  if not start then
    callback({ items = {}, isIncomplete = false })
    return
  end
  local items = vim.tbl_map(function(w)
    return { label = w, filterText = w }
  end, words(base))
  callback({ items = items, isIncomplete = true })
end

--- Registers the nvim-cmp source (no-op without nvim-cmp).
function M.register_cmp()
  local ok, cmp = pcall(require, "cmp")
  if ok and type(cmp.register_source) == "function" then
    cmp.register_source("agent_ls", setmetatable({}, { __index = cmp_source }))
    return true
  end
  return false
end

-- blink.cmp: a provider with module = "agent_ls.completion" (new() returns the source).
local blink_source = {}

function M.new()
  return setmetatable({}, { __index = blink_source })
end

function blink_source:enabled()
  return in_chat()
end

function blink_source:get_trigger_characters()
  return TRIGGERS
end

function blink_source:get_completions(ctx, callback)
  local row, col = ctx.cursor[1], ctx.cursor[2]
  local start, base = M.word_before(ctx.line, col)
  local items = {}
  if start then
    for _, w in ipairs(words(base)) do
      items[#items + 1] = {
        label = w,
        filterText = w,
        textEdit = {
          newText = w,
          range = { start = { line = row - 1, character = start }, ["end"] = { line = row - 1, character = col } },
        },
      }
    end
  end
  callback({ items = items, is_incomplete_forward = true, is_incomplete_backward = true })
end

return M
