-- workspace/applyEdit: Neovim's own handler applies the agent's edits to buffers (so `u` undoes
-- them). The rule for the file on disk (:help agent_ls-edits):
--   * a buffer with no unsaved changes before the edit is written at once (`write_edits`), so
--     disk, buffer and the turn's checkpoint agree and a command the agent runs next reads it;
--   * a buffer that had unsaved changes is not written (that would save the user's unfinished
--     text unasked): the chat says so and :AgentWrite writes it.
local config = require("agent_ls.config")

local M = {}

local function touched_files(edit)
  local files = {}
  local function add(uri)
    if type(uri) == "string" and uri:match("^file:") then
      files[#files + 1] = vim.uri_to_fname(uri)
    end
  end
  if type(edit) ~= "table" then
    return files
  end
  for _, change in ipairs(edit.documentChanges or {}) do
    if type(change) == "table" then
      if change.textDocument then
        add(change.textDocument.uri)
      elseif change.kind == "create" then
        add(change.uri)
      elseif change.kind == "rename" then
        add(change.newUri)
      end
    end
  end
  for uri in pairs(type(edit.changes) == "table" and edit.changes or {}) do
    add(uri)
  end
  return files
end

--- Sends the didChange of the edit now rather than after the debounce (150 ms by default): the
--- server answers the applyEdit and may read the buffer (to record the turn's checkpoint) at
--- once, and must see the edited text.
local function flush_changes(ctx, files)
  local bufs = {}
  for _, fname in ipairs(files) do
    local buf = vim.fn.bufnr(fname)
    if buf ~= -1 and vim.api.nvim_buf_is_loaded(buf) then
      bufs[#bufs + 1] = buf
    end
  end
  M.flush(ctx.client_id, bufs)
end

--- Sends the debounced didChange of `bufs` (default: every buffer attached to the client) now:
--- before a prompt, so the agent reads what the user just typed.
function M.flush(client_id, bufs)
  local ok, changetracking = pcall(require, "vim.lsp._changetracking")
  local c = vim.lsp.get_client_by_id(client_id)
  if not ok or not c or type(changetracking.flush) ~= "function" then
    return
  end
  for _, buf in ipairs(bufs or vim.tbl_keys(c.attached_buffers or {})) do
    pcall(changetracking.flush, c, buf)
  end
end

--- Buffers holding agent edits that are not on disk yet: file name → true.
M.pending = {}

local function display(fname)
  return vim.fn.fnamemodify(fname, ":~:.")
end

--- Tells the user (in the chat and a warning) which files hold the agent's edit only in the buffer.
local function report_unwritten(ctx, fnames)
  if #fnames == 0 then
    return
  end
  table.sort(fnames)
  local names = table.concat(vim.tbl_map(display, fnames), ", ")
  local text = names .. ": the agent's edit is in the buffer only (it had unsaved changes); the file on disk is older until written (:AgentWrite)"
  require("agent_ls.chat").add_note(ctx.client_id, "- ⚠ " .. text)
  require("agent_ls.util").warn(text)
end

--- :AgentWrite: writes the buffers holding agent edits that are not on disk yet.
function M.write_pending()
  local written = {}
  for fname in pairs(M.pending) do
    local buf = vim.fn.bufnr(fname)
    if buf ~= -1 and vim.api.nvim_buf_is_loaded(buf) and vim.bo[buf].modified then
      local ok, e = pcall(vim.api.nvim_buf_call, buf, function()
        -- noautocmd, as for the agent's own writes: the file matches the turn's checkpoint.
        vim.cmd("silent noautocmd keepalt write")
      end)
      if ok then
        written[#written + 1] = display(fname)
      else
        require("agent_ls.util").error("could not write " .. display(fname) .. ": " .. tostring(e))
      end
    end
  end
  M.pending = {}
  local util = require("agent_ls.util")
  if #written == 0 then
    util.notify("no agent edits waiting to be written")
  else
    table.sort(written)
    util.notify("wrote " .. table.concat(written, ", "))
  end
  return written
end

function M.apply(err, params, ctx)
  local default = vim.lsp.handlers["workspace/applyEdit"]
  if type(params) ~= "table" then
    return default(err, params, ctx)
  end
  local files = touched_files(params.edit)
  -- Buffers with no unsaved changes (or not loaded at all) before the edit.
  local clean = {}
  for _, fname in ipairs(files) do
    local buf = vim.fn.bufnr(fname)
    if buf == -1 or not vim.api.nvim_buf_is_loaded(buf) or not vim.bo[buf].modified then
      clean[fname] = true
    end
  end
  local result = default(err, params, ctx)
  flush_changes(ctx, files)
  if type(result) ~= "table" or not result.applied then
    return result
  end
  local unwritten = {}
  for _, fname in ipairs(files) do
    local buf = vim.fn.bufnr(fname)
    if buf ~= -1 and vim.api.nvim_buf_is_loaded(buf) and vim.bo[buf].modified then
      if not clean[fname] then
        M.pending[fname] = true
        unwritten[#unwritten + 1] = fname
      elseif config.options.write_edits then
        vim.api.nvim_buf_call(buf, function()
          -- noautocmd: formatters on save would change what the agent wrote.
          pcall(vim.cmd, "silent noautocmd keepalt write")
        end)
      end
    end
  end
  report_unwritten(ctx, unwritten)
  return result
end

return M
