-- Pickers with a preview: Telescope, fzf-lua or snacks.nvim when one is installed (the `picker`
-- option picks one, "auto" takes the first found), else vim.ui.select without a preview.
--
--   picker.select(items, { prompt, kind, format_item, preview = fun(item, done(lines)) }, on_choice)
--
-- `preview` may call `done` at once or later (a server request); the preview shows the lines
-- when they come, if the same item is still the one previewed. on_choice(item | nil).
local config = require("agent_ls.config")

local M = {}

--- Modules whose presence means the picker is installed, in the order "auto" tries them.
M.BACKENDS = {
  { name = "telescope", module = "telescope.pickers" },
  { name = "fzf-lua", module = "fzf-lua" },
  { name = "snacks", module = "snacks" },
}

local function installed(name)
  for _, b in ipairs(M.BACKENDS) do
    if b.name == name then
      local ok, mod = pcall(require, b.module)
      if not ok or type(mod) ~= "table" then
        return false
      end
      return name ~= "snacks" or type(mod.picker) == "table"
    end
  end
  return false
end

--- The picker to use: the `picker` option's choice when it is installed ("auto": the first one
--- installed), else "select" (vim.ui.select).
function M.backend()
  local want = config.options.picker or "auto"
  if want == "select" then
    return "select"
  end
  if want ~= "auto" then
    return installed(want) and want or "select"
  end
  for _, b in ipairs(M.BACKENDS) do
    if installed(b.name) then
      return b.name
    end
  end
  return "select"
end

--- Runs opts.preview for `item` once; later calls share the first answer.
local function cached_preview(opts)
  local cache = {}
  return function(item, done)
    local entry = cache[item]
    if entry and entry.lines then
      done(entry.lines)
      return
    end
    if entry then
      entry.waiting[#entry.waiting + 1] = done
      return
    end
    entry = { waiting = { done } }
    cache[item] = entry
    opts.preview(item, function(lines)
      entry.lines = lines or {}
      for _, cb in ipairs(entry.waiting) do
        cb(entry.lines)
      end
      entry.waiting = {}
    end)
  end
end

local function show(opts, item)
  return opts.format_item and opts.format_item(item) or tostring(item)
end

local function set_preview(buf, lines)
  if not vim.api.nvim_buf_is_valid(buf) then
    return
  end
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  if not pcall(vim.treesitter.start, buf, "markdown") then
    vim.bo[buf].syntax = "markdown"
  end
end

local function telescope(items, opts, preview, on_choice)
  local pickers = require("telescope.pickers")
  local finders = require("telescope.finders")
  local previewers = require("telescope.previewers")
  local actions = require("telescope.actions")
  local action_state = require("telescope.actions.state")
  local conf = require("telescope.config").values
  pickers
    .new({}, {
      prompt_title = opts.prompt,
      finder = finders.new_table({
        results = items,
        entry_maker = function(item)
          local text = show(opts, item)
          return { value = item, display = text, ordinal = text }
        end,
      }),
      sorter = conf.generic_sorter({}),
      previewer = previewers.new_buffer_previewer({
        title = opts.preview_title or "Preview",
        define_preview = function(self, entry)
          local buf = self.state.bufnr
          self.state.agent_ls_item = entry.value
          preview(entry.value, function(lines)
            if self.state.agent_ls_item == entry.value then
              set_preview(buf, lines)
            end
          end)
        end,
      }),
      attach_mappings = function(prompt_bufnr)
        actions.select_default:replace(function()
          local entry = action_state.get_selected_entry()
          actions.close(prompt_bufnr)
          on_choice(entry and entry.value or nil)
        end)
        return true
      end,
    })
    :find()
end

local function fzf_lua(items, opts, preview, on_choice)
  local lines = {}
  for i, item in ipairs(items) do
    lines[i] = i .. "\t" .. show(opts, item):gsub("\n", " ")
  end
  local function item_of(selected)
    local i = selected and selected[1] and tonumber(selected[1]:match("^(%d+)\t"))
    return i and items[i] or nil
  end
  require("fzf-lua").fzf_exec(lines, {
    prompt = (opts.prompt or "") .. "> ",
    fzf_opts = { ["--delimiter"] = "\t", ["--with-nth"] = "2.." },
    -- fzf-lua calls a Lua previewer synchronously: wait (briefly) for the lines.
    preview = function(selected)
      local item, got = item_of(selected), nil
      if not item then
        return ""
      end
      preview(item, function(l)
        got = l
      end)
      vim.wait(2000, function()
        return got ~= nil
      end, 10)
      return table.concat(got or {}, "\n")
    end,
    actions = {
      default = function(selected)
        on_choice(item_of(selected))
      end,
    },
  })
end

local function snacks(items, opts, preview, on_choice)
  local list = {}
  for i, item in ipairs(items) do
    list[i] = { idx = i, text = show(opts, item), value = item }
  end
  local chosen = false
  require("snacks").picker.pick({
    title = opts.prompt,
    items = list,
    format = function(item)
      return { { item.text } }
    end,
    preview = function(ctx)
      local item = ctx.item
      ctx.preview:reset()
      preview(item.value, function(lines)
        local current = ctx.picker and ctx.picker.current and ctx.picker:current()
        if current == nil or current == item then
          ctx.preview:set_lines(lines)
          ctx.preview:highlight({ ft = "markdown" })
        end
      end)
      return true
    end,
    confirm = function(picker, item)
      chosen = true
      picker:close()
      on_choice(item and item.value or nil)
    end,
    on_close = function()
      if not chosen then
        chosen = true
        on_choice(nil)
      end
    end,
  })
end

local RUN = { telescope = telescope, ["fzf-lua"] = fzf_lua, snacks = snacks }

--- Picks one of `items`; with a picker plugin and opts.preview, each item is previewed.
function M.select(items, opts, on_choice)
  local backend = opts.preview and M.backend() or "select"
  if backend == "select" then
    vim.ui.select(items, {
      prompt = opts.prompt,
      kind = opts.kind,
      format_item = opts.format_item,
    }, on_choice)
    return backend
  end
  local ok, err = pcall(RUN[backend], items, opts, cached_preview(opts), on_choice)
  if not ok then
    require("agent_ls.util").warn(backend .. " failed (" .. tostring(err) .. "): using vim.ui.select")
    vim.ui.select(items, { prompt = opts.prompt, kind = opts.kind, format_item = opts.format_item }, on_choice)
    return "select"
  end
  return backend
end

return M
