-- Small helpers shared by the agent_ls modules.
local M = {}

--- JSON null arrives as nil (objects, Neovim 0.11) or vim.NIL (arrays, and objects on 0.12).
--- Returns nil for both, the value otherwise.
function M.nn(v)
  if v == vim.NIL then
    return nil
  end
  return v
end

--- Deep copy of `v` with every vim.NIL replaced by nil (array holes are dropped).
function M.denull(v)
  if v == vim.NIL then
    return nil
  end
  if type(v) ~= "table" then
    return v
  end
  local out = {}
  if vim.islist(v) then
    for _, item in ipairs(v) do
      local x = M.denull(item)
      if x ~= nil then
        out[#out + 1] = x
      end
    end
    return out
  end
  for k, item in pairs(v) do
    out[k] = M.denull(item)
  end
  return out
end

function M.notify(msg, level)
  vim.notify("agent_ls: " .. msg, level or vim.log.levels.INFO, { title = "agent_ls" })
end

function M.warn(msg)
  M.notify(msg, vim.log.levels.WARN)
end

function M.error(msg)
  M.notify(msg, vim.log.levels.ERROR)
end

--- The stable `data.kind` of a server error (session_not_found, session_busy, …), or nil.
function M.err_kind(err)
  if type(err) ~= "table" or type(M.nn(err.data)) ~= "table" then
    return nil
  end
  return M.nn(err.data.kind)
end

--- A readable message for a JSON-RPC error object or a plain value.
function M.err_message(err)
  if type(err) == "table" then
    local msg = M.nn(err.message) or vim.inspect(err)
    local code = M.nn(err.code)
    if code then
      return string.format("%s (%s)", msg, code)
    end
    return msg
  end
  return tostring(err)
end

local utc_offset
--- Seconds since the epoch for an ISO 8601 UTC time ("2026-11-22T10:00:00.000Z"), or nil.
function M.parse_time(s)
  s = M.nn(s)
  if type(s) ~= "string" then
    return nil
  end
  local y, mo, d, h, mi, sec = s:match("^(%d+)-(%d+)-(%d+)[T ](%d+):(%d+):(%d+)")
  if not y then
    return nil
  end
  if not utc_offset then
    local now = os.time()
    utc_offset = os.difftime(now, os.time(os.date("!*t", now) --[[@as osdateparam]]))
  end
  local t = os.time({
    year = tonumber(y),
    month = tonumber(mo),
    day = tonumber(d),
    hour = tonumber(h),
    min = tonumber(mi),
    sec = tonumber(sec),
    isdst = false,
  })
  -- Offsets such as +02:00 are folded in; "Z" or none means UTC.
  local sign, oh, om = s:match("([+-])(%d%d):?(%d%d)$")
  local zone = 0
  if sign then
    zone = (tonumber(oh) * 3600 + tonumber(om) * 60) * (sign == "-" and -1 or 1)
  end
  return t + utc_offset - zone
end

--- "just now", "5m ago", "3h ago", "2d ago", or the date for older times.
function M.age(s, now)
  local t = M.parse_time(s)
  if not t then
    return ""
  end
  local diff = (now or os.time()) - t
  if diff < 60 then
    return "just now"
  elseif diff < 3600 then
    return string.format("%dm ago", math.floor(diff / 60))
  elseif diff < 86400 then
    return string.format("%dh ago", math.floor(diff / 3600))
  elseif diff < 86400 * 30 then
    return string.format("%dd ago", math.floor(diff / 86400))
  end
  return os.date("%Y-%m-%d", t) --[[@as string]]
end

--- First line of `s`, shortened to `max` display cells.
function M.one_line(s, max)
  s = M.nn(s)
  if type(s) ~= "string" then
    return ""
  end
  s = vim.trim((s:gsub("%s+", " ")))
  max = max or 60
  if vim.fn.strdisplaywidth(s) > max then
    s = vim.fn.strcharpart(s, 0, max - 1) .. "…"
  end
  return s
end

--- Plain text of a content value: a string, one content block, or a list of blocks.
function M.content_text(content)
  content = M.nn(content)
  if content == nil then
    return ""
  end
  if type(content) == "string" then
    return content
  end
  if type(content) ~= "table" then
    return tostring(content)
  end
  if M.nn(content.type) ~= nil or M.nn(content.text) ~= nil then
    local kind = M.nn(content.type)
    if kind == "text" or kind == nil then
      return M.nn(content.text) or ""
    elseif kind == "content" then
      return M.content_text(content.content)
    elseif kind == "tool_result" then
      return M.content_text(content.content)
    elseif kind == "resource_link" then
      return M.nn(content.name) or M.nn(content.uri) or ""
    elseif kind == "diff" then
      return ""
    end
    return ""
  end
  local parts = {}
  for _, block in ipairs(content) do
    local text = M.content_text(block)
    if text ~= "" then
      parts[#parts + 1] = text
    end
  end
  return table.concat(parts, "\n")
end

--- A file path for display: relative to `root` when inside it.
function M.display_path(uri_or_path, root)
  local path = M.nn(uri_or_path) or ""
  if path:match("^%a[%w+.-]*://") then
    local ok, fname = pcall(vim.uri_to_fname, path)
    if ok then
      path = fname
    end
  end
  if root and root ~= "" then
    local prefix = root:gsub("/+$", "") .. "/"
    if path:sub(1, #prefix) == prefix then
      return path:sub(#prefix + 1)
    end
  end
  return path
end

--- Calls a method of an LSP client object on 0.11 (`client:m()`) and 0.10 (`client.m()`).
function M.call(client, method, ...)
  if vim.fn.has("nvim-0.11") == 1 then
    return client[method](client, ...)
  end
  return client[method](...)
end

return M
