-- A tiny test harness for headless Neovim: tests, assertions, waiting with timeouts, stubs for
-- vim.ui.select / vim.ui.input, the fake Anthropic API, and a pass/fail summary.
--
-- Run a test file with:  nvim --headless -u NONE -i NONE -n -l nvim/tests/test_x.lua
-- (nvim/tests/run.sh sets the environment: ANTHROPIC_BASE_URL of the fake API, AGENT_LS_HOME…)
local H = {}

local this = debug.getinfo(1, "S").source:sub(2)
H.tests_dir = vim.fn.fnamemodify(this, ":p:h")
H.nvim_dir = vim.fn.fnamemodify(H.tests_dir, ":h")
H.repo = vim.env.AGENT_LS_REPO or vim.fn.fnamemodify(H.nvim_dir, ":h")
H.python = vim.env.AGENT_LS_PYTHON or (H.repo .. "/.venv/bin/python")
H.api = vim.env.ANTHROPIC_BASE_URL
H.tmp = vim.env.AGENT_LS_TEST_TMP or vim.fn.tempname()
H.verbose = vim.env.AGENT_LS_TEST_VERBOSE == "1"

vim.fn.mkdir(H.tmp, "p")
vim.opt.rtp:prepend(H.nvim_dir)
vim.o.swapfile = false
vim.o.shortmess = vim.o.shortmess .. "WAF"
vim.o.more = false

local tests = {}

function H.test(name, fn)
  tests[#tests + 1] = { name = name, fn = fn }
end

local function fmt(v)
  return type(v) == "string" and string.format("%q", v) or vim.inspect(v)
end

function H.fail(msg)
  error(msg, 2)
end

function H.eq(actual, expected, what)
  if not vim.deep_equal(actual, expected) then
    error(string.format("%s: expected %s, got %s", what or "value", fmt(expected), fmt(actual)), 2)
  end
end

function H.truthy(v, what)
  if not v then
    error((what or "value") .. ": expected a true value, got " .. fmt(v), 2)
  end
  return v
end

function H.contains(haystack, needle, what)
  if type(haystack) ~= "string" or not haystack:find(needle, 1, true) then
    error(string.format("%s: %s not found in %s", what or "text", fmt(needle), fmt(haystack)), 2)
  end
end

function H.not_contains(haystack, needle, what)
  if type(haystack) == "string" and haystack:find(needle, 1, true) then
    error(string.format("%s: %s should not be in %s", what or "text", fmt(needle), fmt(haystack)), 2)
  end
end

--- Waits (running the event loop) until fn() returns a true value; returns it. Errors on timeout.
function H.wait_for(fn, what, timeout)
  local value, last_err
  local ok = vim.wait(timeout or 30000, function()
    local good, v = pcall(fn)
    if good then
      value = v
      return v and true or false
    end
    last_err = v
    return false
  end, 10)
  if not ok then
    error("timed out waiting for " .. (what or "a condition") .. (last_err and (" (" .. tostring(last_err) .. ")") or ""), 2)
  end
  return value
end

--- Runs the event loop for `ms`.
function H.sleep(ms)
  vim.wait(ms, function()
    return false
  end, 10)
end

function H.lines(buf)
  return vim.api.nvim_buf_get_lines(buf or 0, 0, -1, false)
end

function H.text(buf)
  return table.concat(H.lines(buf), "\n")
end

function H.read(path)
  local f = io.open(path, "rb")
  if not f then
    return nil
  end
  local s = f:read("*a")
  f:close()
  return s
end

function H.write(path, text)
  vim.fn.mkdir(vim.fn.fnamemodify(path, ":h"), "p")
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

--- A workspace folder (a .git directory marks the root) holding `files` {relpath = text}.
function H.workspace(name, files)
  local dir = vim.fn.resolve(H.tmp .. "/" .. name)
  vim.fn.mkdir(dir .. "/.git", "p")
  for rel, text in pairs(files or {}) do
    H.write(dir .. "/" .. rel, text)
  end
  return dir
end

-- User autocmd recorder: H.events("TurnEnd") → list that fills as `User AgentLsTurnEnd` fires.
function H.events(name)
  local list = {}
  vim.api.nvim_create_autocmd("User", {
    pattern = "AgentLs" .. name,
    callback = function(args)
      list[#list + 1] = args.data or {}
    end,
  })
  return list
end

-- print() (Neovim's applyEdit handler prints the edit's label) goes to stderr when verbose, so
-- the result lines on stdout stay whole.
H.printed = {}
_G.print = function(...)
  local parts = {}
  for i = 1, select("#", ...) do
    parts[#parts + 1] = tostring(select(i, ...))
  end
  H.printed[#H.printed + 1] = table.concat(parts, " ")
  if H.verbose then
    io.stderr:write("  [print] " .. H.printed[#H.printed] .. "\n")
  end
end

-- vim.notify is recorded (and echoed to stderr when AGENT_LS_TEST_VERBOSE=1).
H.notes = {}
vim.notify = function(msg, level)
  H.notes[#H.notes + 1] = { msg = msg, level = level }
  if H.verbose then
    io.stderr:write("  [notify] " .. tostring(msg) .. "\n")
  end
end

function H.noted(needle)
  for _, n in ipairs(H.notes) do
    if tostring(n.msg):find(needle, 1, true) then
      return n
    end
  end
end

-- vim.ui.select stub: answers come from a queue of functions (items, opts) → item | nil; the
-- callback runs later, as with asynchronous pickers. Every call is recorded in H.selects.
H.selects = {}
local select_queue = {}
function H.answer_select(fn)
  select_queue[#select_queue + 1] = fn
end
vim.ui.select = function(items, opts, on_choice)
  opts = opts or {}
  local shown = {}
  for i, item in ipairs(items) do
    shown[i] = opts.format_item and opts.format_item(item) or tostring(item)
  end
  local call = { items = items, shown = shown, prompt = opts.prompt, kind = opts.kind }
  H.selects[#H.selects + 1] = call
  local fn = table.remove(select_queue, 1)
  if H.verbose then
    io.stderr:write("  [select] " .. tostring(opts.prompt) .. ": " .. table.concat(shown, " | ") .. "\n")
  end
  if not fn then
    call.pending = on_choice
    return
  end
  vim.defer_fn(function()
    local choice = fn(items, opts, shown)
    local idx
    for i, item in ipairs(items) do
      if item == choice then
        idx = i
      end
    end
    call.choice = choice
    on_choice(choice, idx)
  end, 5)
end

-- vim.ui.input stub: a queue of answers (strings, or nil to dismiss).
local input_queue = {}
H.inputs = {}
function H.answer_input(text)
  input_queue[#input_queue + 1] = { text }
end
vim.ui.input = function(opts, on_confirm)
  H.inputs[#H.inputs + 1] = opts
  local a = table.remove(input_queue, 1)
  vim.defer_fn(function()
    on_confirm(a and a[1] or nil)
  end, 5)
end

-- The fake Anthropic API.
local function http(method, path, body)
  local script = [[
import json, sys, urllib.request
method, url, body = sys.argv[1], sys.argv[2], sys.argv[3]
req = urllib.request.Request(url, method=method, data=body.encode() if body else None,
                             headers={"Content-Type": "application/json"})
with urllib.request.urlopen(req, timeout=10) as r:
    sys.stdout.write(r.read().decode())
]]
  assert(H.api, "ANTHROPIC_BASE_URL is not set (run the tests through nvim/tests/run.sh)")
  local res = vim.system({ H.python, "-c", script, method, H.api .. path, body or "" }, { text = true }):wait(15000)
  if res.code ~= 0 then
    error("fake API " .. path .. " failed: " .. (res.stderr or ""))
  end
  return res.stdout ~= "" and vim.json.decode(res.stdout) or nil
end

--- Queues canned model turns (see agent_ls/agent/providers/turns.py).
function H.script(turns)
  return http("POST", "/_script", vim.json.encode(turns))
end

function H.reset_api()
  return http("POST", "/_reset", "{}")
end

--- Requests the fake API received: {path, headers, body, outcome}.
function H.api_requests()
  return http("GET", "/_requests")
end

-- The plugin.
function H.setup(opts)
  local agent = require("agent_ls")
  agent.setup(vim.tbl_deep_extend("force", {
    cmd = { H.python, "-m", "agent_ls" },
    model = "fake-model",
  }, opts or {}))
  return agent
end

--- The running agent_ls client (waits for it to be initialized).
function H.client()
  return H.wait_for(function()
    local c = require("agent_ls.client").current()
    return c and c.initialized and c
  end, "the agent_ls client to start", 30000)
end

function H.state()
  return require("agent_ls.state").get(H.client().id)
end

function H.chat_buf()
  local chat = require("agent_ls.chat").get(H.client().id)
  return chat and chat.buf
end

function H.chat_text()
  local buf = H.chat_buf()
  return buf and H.text(buf) or ""
end

--- Waits for the running turn (if any) to end; returns the last TurnEnd event data.
local turn_ends = H.events("TurnEnd")
H.turn_ends = turn_ends
function H.wait_turn(count, timeout)
  H.wait_for(function()
    return #turn_ends >= count
  end, "turn " .. count .. " to end", timeout or 60000)
  return turn_ends[count]
end

local exited = {}
vim.api.nvim_create_autocmd("User", {
  pattern = "AgentLsClientExit",
  callback = function(args)
    exited[args.data.client_id] = true
  end,
})

--- Stops the servers and waits for their processes to exit (run.sh then removes the temp dir).
local function stop_clients()
  local clients = vim.lsp.get_clients({ name = "agent_ls" })
  for _, c in ipairs(clients) do
    c:stop()
  end
  local function all_exited()
    for _, c in ipairs(clients) do
      if not exited[c.id] then
        return false
      end
    end
    return true
  end
  if not vim.wait(5000, all_exited, 20) then
    for _, c in ipairs(clients) do
      c:stop(true)
    end
    vim.wait(3000, all_exited, 20)
  end
end

--- Skips the running test when the server does not handle `method` (a server older than the
--- feature the test covers: it answers -32601). The run reports it as skipped, with the reason.
function H.needs(method)
  local res = H.client():request_sync(method, vim.empty_dict(), 10000)
  local err = res and res.err
  if err and err.code == -32601 then
    error({ skip = "the server has no " .. method }, 0)
  end
end

--- Runs every test in order, prints TAP-like lines and "RESULT <file> <passed> <failed>
--- <skipped>", exits.
function H.run(file_label)
  local passed, failed, skipped = 0, 0, 0
  local label = file_label or vim.fn.fnamemodify(debug.getinfo(2, "S").source:sub(2), ":t:r")
  if H.api then
    pcall(H.reset_api)
  end
  for i, t in ipairs(tests) do
    local started = vim.uv.hrtime()
    local ok, err = xpcall(t.fn, debug.traceback)
    local ms = (vim.uv.hrtime() - started) / 1e6
    if ok then
      passed = passed + 1
      io.stdout:write(string.format("ok %d - %s: %s (%.0f ms)\n", i, label, t.name, ms))
    elseif type(err) == "table" and err.skip then
      skipped = skipped + 1
      io.stdout:write(string.format("ok %d - %s: %s # SKIP %s\n", i, label, t.name, err.skip))
    else
      failed = failed + 1
      io.stdout:write(string.format("not ok %d - %s: %s (%.0f ms)\n", i, label, t.name, ms))
      for line in tostring(err):gmatch("[^\n]+") do
        io.stdout:write("    # " .. line .. "\n")
      end
      -- Leftover canned turns would leak into the next test.
      if H.api then
        pcall(H.reset_api)
      end
    end
    io.stdout:flush()
  end
  io.stdout:write(string.format("RESULT %s %d %d %d\n", label, passed, failed, skipped))
  io.stdout:flush()
  stop_clients()
  os.exit(failed > 0 and 1 or 0)
end

return H
