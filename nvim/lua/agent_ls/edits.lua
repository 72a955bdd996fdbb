-- workspace/applyEdit: Neovim's own handler applies the agent's edits to buffers (so `u` undoes
-- them); with `write_edits`, buffers that had no unsaved changes before are then written, so the
-- file on disk is what the agent wrote (a command the agent runs next reads the file).
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
  local ok, changetracking = pcall(require, "vim.lsp._changetracking")
  local c = vim.lsp.get_client_by_id(ctx.client_id)
  if not ok or not c or type(changetracking.flush) ~= "function" then
    return
  end
  for _, fname in ipairs(files) do
    local buf = vim.fn.bufnr(fname)
    if buf ~= -1 and vim.api.nvim_buf_is_loaded(buf) then
      pcall(changetracking.flush, c, buf)
    end
  end
end

function M.apply(err, params, ctx)
  local default = vim.lsp.handlers["workspace/applyEdit"]
  if type(params) ~= "table" then
    return default(err, params, ctx)
  end
  local files = touched_files(params.edit)
  if not config.options.write_edits then
    local result = default(err, params, ctx)
    flush_changes(ctx, files)
    return result
  end
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
  if type(result) == "table" and result.applied then
    for fname in pairs(clean) do
      local buf = vim.fn.bufnr(fname)
      if buf ~= -1 and vim.api.nvim_buf_is_loaded(buf) and vim.bo[buf].modified then
        vim.api.nvim_buf_call(buf, function()
          -- noautocmd: formatters on save would change what the agent wrote.
          pcall(vim.cmd, "silent noautocmd keepalt write")
        end)
      end
    end
  end
  return result
end

return M
