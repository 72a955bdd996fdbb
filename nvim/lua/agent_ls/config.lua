-- Options given to require("agent_ls").setup(), merged over the defaults.
local M = {}

M.defaults = {
  -- How to start the server (a list, as for vim.lsp.start); `cmd_env` adds environment variables.
  cmd = { "agent-ls" },
  cmd_env = nil,
  -- A command whose output is the API key (a list, or a string for the shell), e.g.
  -- { "pass", "show", "anthropic" }. It runs when the server first starts; the key goes to the
  -- server in its environment (ANTHROPIC_API_KEY), never on its command line. :AgentSetKey sets
  -- another key (or runs this again) and restarts the server.
  api_key_cmd = nil,
  -- Sent to the server in initializationOptions (nil: the server's default).
  model = nil,
  -- Models :AgentModel offers to pick from (empty: it asks for a name; `:AgentModel name` takes
  -- any name).
  models = {},
  provider = nil,
  session_dir = nil,
  permission_policy = nil,
  -- The model's context window in tokens, for the "% of context" in the winbar (and sent to the
  -- server as contextWindow; nil: 200000, the server's default).
  context_window = nil,
  -- The workspace root is the nearest folder holding one of these; the cwd if none does.
  root_markers = { ".git", ".hg", ".jj", ".svn" },
  -- Filetypes the server attaches to (so the agent reads unsaved text); nil: every file buffer.
  filetypes = nil,
  -- Write a buffer to disk after an agent edit when it had no unsaved changes before the edit, so
  -- commands the agent runs see the file the agent wrote. `u` still undoes the edit.
  write_edits = true,
  -- With no active session, the first prompt continues the most recent one (false: a new one).
  resume_recent = true,
  -- Sessions fetched for :AgentSessions.
  session_list_limit = 100,
  -- Hits :AgentSearch fetches at a time; the last item of a full page loads the next ones.
  search_page = 50,
  -- The picker for sessions, search hits and user messages: "auto" (Telescope, fzf-lua or
  -- snacks.nvim, the first one installed, with a preview of the transcript; else
  -- vim.ui.select), "telescope", "fzf-lua", "snacks" or "select".
  picker = "auto",
  -- How many transcript items a session's preview shows (its last ones).
  preview_items = 20,
  -- Chat window: "right", "left", "below", "above", "tab" or "current"; size in columns or
  -- lines (a number below 1 is a fraction of the editor).
  chat = { position = "right", size = 0.4 },
  -- Key mappings; set one to false to drop it, or keymaps = false to drop them all.
  keymaps = {
    prompt = "<leader>ap", -- :AgentPrompt (normal and visual mode)
    chat = "<leader>ac", -- :AgentChat
    add = "<leader>aa", -- :AgentAdd (normal: the file; visual: the selected lines)
    sessions = "<leader>as", -- :AgentSessions
    new = "<leader>an", -- :AgentNew
    cancel = "<leader>ax", -- :AgentCancel
    checkpoints = "<leader>ak", -- :AgentCheckpoints
    revert = "<leader>ar", -- :AgentRevert
    -- In the chat buffer:
    chat_send = "<CR>", -- normal mode: send the prompt typed below the separator
    chat_send_insert = "<C-s>", -- insert mode: send
    chat_cancel = "<C-c>", -- normal mode: cancel the running turn
    chat_close = "q", -- normal mode: close the chat window
    chat_next = "]]", -- normal mode: next message (## You / ## Agent)
    chat_prev = "[[", -- normal mode: previous message
    chat_yank_code = "gy", -- normal mode: yank the fenced code block under (or after) the cursor
    chat_open_file = "gf", -- normal mode: open the file of the tool line under the cursor
    chat_edit = "ge", -- normal mode: edit the message of yours under the cursor and resend it
    chat_rewind = "gR", -- normal mode: rewind to before the message of yours under the cursor
    review_accept = "ga", -- review diff: accept the agent's edit
    review_reject = "gr", -- review diff: reject it
    hunk_revert = "gr", -- checkpoint diff tab: revert the hunk under the cursor
  },
}

M.options = vim.deepcopy(M.defaults)
M.did_setup = false

function M.set(opts)
  opts = opts or {}
  local merged = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts)
  if opts.keymaps == false then
    merged.keymaps = {}
    for k in pairs(M.defaults.keymaps) do
      merged.keymaps[k] = false
    end
  end
  -- Lists replace rather than merge.
  if opts.cmd then
    merged.cmd = opts.cmd
  end
  if opts.root_markers then
    merged.root_markers = opts.root_markers
  end
  if type(merged.cmd) == "string" then
    merged.cmd = { merged.cmd }
  end
  M.options = merged
  M.did_setup = true
  return merged
end

return M
