-- :AgentExport and :AgentImport — a session out as Markdown, HTML, JSONL or a bundle
-- (agent/session/export), sessions in from a bundle or another agent (agent/session/import).
local client = require("agent_ls.client")
local state = require("agent_ls.state")
local util = require("agent_ls.util")

local M = {}

M.FORMATS = { markdown = "md", html = "html", jsonl = "jsonl", bundle = "tar" }
M.SOURCES = { "claude-code", "pi", "codex" }

local function slug(info)
  local name = util.nn(info.name) or util.one_line(info.firstMessage, 40)
  name = name:lower():gsub("[^%w]+", "-"):gsub("^%-+", ""):gsub("%-+$", "")
  return name ~= "" and name or info.sessionId
end

--- The file a session's export goes to by default: `<cwd>/<name>.<ext>`.
function M.default_path(info, format)
  return vim.fn.getcwd() .. "/" .. slug(info) .. "." .. M.FORMATS[format]
end

--- :AgentExport [format] [path] — format markdown (default), html, jsonl or bundle; without a
--- path it asks (default: the session's name in the current directory). `to_buffer`: a text
--- format opens in a new buffer instead of a file.
function M.export(format, path, to_buffer, cb)
  format = (format and format ~= "") and format or "markdown"
  if not M.FORMATS[format] then
    util.warn("export formats: markdown, html, jsonl, bundle (not " .. format .. ")")
    return
  end
  client.with_client(function(c)
    local info = state.get(c.id).active
    if not info then
      util.warn("no active session to export (:AgentSessions)")
      return
    end
    if to_buffer then
      if format == "bundle" then
        util.warn("a bundle is a file: :AgentExport bundle [path]")
        return
      end
      client.call(c, "agent/session/export", { sessionId = info.sessionId, format = format }, function(res)
        vim.cmd.tabnew()
        local buf = vim.api.nvim_get_current_buf()
        vim.bo[buf].buftype = "nofile"
        vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(res.content or "", "\n", { plain = true }))
        vim.bo[buf].filetype = ({ markdown = "markdown", html = "html", jsonl = "json" })[format]
        state.emit("Exported", { client_id = c.id, format = format, buf = buf })
        if cb then
          cb(res)
        end
      end)
      return
    end
    local function write(target)
      if not target or vim.trim(target) == "" then
        return
      end
      target = vim.fn.fnamemodify(vim.fn.expand(vim.trim(target)), ":p")
      local params = { sessionId = info.sessionId, format = format, path = target }
      client.call(c, "agent/session/export", params, function(res)
        util.notify(("exported %s to %s (%d bytes)"):format(format, res.path or target, res.bytes or 0))
        state.emit("Exported", { client_id = c.id, format = format, path = res.path or target, bytes = res.bytes })
        if cb then
          cb(res)
        end
      end)
    end
    if path and path ~= "" then
      write(path)
    else
      vim.ui.input({
        prompt = "Export " .. format .. " to: ",
        default = M.default_path(info, format),
        completion = "file",
      }, write)
    end
  end)
end

--- The params of :AgentImport's arguments: `BUNDLE` or `--from SOURCE [PATH] [--all]`.
function M.parse(args)
  local params, i = {}, 1
  while i <= #args do
    local a = args[i]
    if a == "--from" then
      params.from = args[i + 1]
      i = i + 1
    elseif a == "--all" then
      params.all = true
    elseif a:match("^%-%-") then
      return nil, "unknown option " .. a .. " (:AgentImport BUNDLE, or --from claude-code|pi|codex [PATH] [--all])"
    else
      params.path = vim.fn.fnamemodify(vim.fn.expand(a), ":p")
    end
    i = i + 1
  end
  if params.from and not vim.tbl_contains(M.SOURCES, params.from) then
    return nil, "--from takes claude-code, pi or codex (not " .. tostring(params.from) .. ")"
  end
  if not params.from and not params.path then
    return nil, ":AgentImport BUNDLE, or :AgentImport --from claude-code|pi|codex [PATH] [--all]"
  end
  return params
end

--- :AgentImport BUNDLE | --from SOURCE [PATH] [--all] — into this workspace; what came in, what
--- was there already and any problems are reported.
function M.import(args, cb)
  local params, problem = M.parse(args)
  if not params then
    util.warn(problem)
    return
  end
  client.with_client(function(c)
    params.workspace = client.client_root(c)
    client.call(c, "agent/session/import", params, function(res)
      res = util.denull(res) or {}
      local imported = res.imported or {}
      local text = ("imported %d session%s"):format(#imported, #imported == 1 and "" or "s")
      if (res.skipped or 0) > 0 then
        text = text .. (", %d already here"):format(res.skipped)
      end
      local problems = res.problems or {}
      if #problems > 0 then
        local label = #problems == 1 and "problem" or "problems"
        text = ("%s; %d %s: %s"):format(text, #problems, label, table.concat(problems, "; "))
      end
      if #imported > 0 then
        text = text .. " (:AgentSessions opens them)"
      end
      util.notify(text, #problems > 0 and vim.log.levels.WARN or vim.log.levels.INFO)
      require("agent_ls.sessions").refresh_lists(c.id)
      state.emit("Imported", { client_id = c.id, result = res })
      if cb then
        cb(res)
      end
    end)
  end)
end

return M
