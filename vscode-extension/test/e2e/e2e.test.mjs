// End-to-end: the packaged .vsix in real VS Code (code-server 4.100.3), driven by headless
// Chromium through playwright-core, with the real agent-ls server pointed at the local fake
// Anthropic API. Run by scripts/test.sh; needs CODE_SERVER_BIN, PYTHON, REPO and VSIX.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { chromium } from 'playwright-core';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

const REPO = env('REPO');
const PYTHON = env('PYTHON');
const CODE_SERVER_BIN = env('CODE_SERVER_BIN');
const VSIX = env('VSIX');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const RESULTS = process.env.RESULTS_DIR ?? path.resolve(import.meta.dirname, '../../test-results');
const KEEP = process.env.AGENT_LS_E2E_KEEP === '1';
const STEP_TIMEOUT = 60_000;
/** `turns`: only the turn controls and search part; `basics`: only the rest; default both. */
const PART = process.env.AGENT_LS_E2E_PART ?? 'all';
const TOTAL_TIMEOUT = Number(process.env.AGENT_LS_E2E_TIMEOUT_MS ?? 600_000);

const ORIGINAL = "print('hello')\n";
const EDITED = "print('hello, agent')\n";
const PROMPT = 'Make hello.py greet the agent';
const REPLY = 'I changed **hello.py** so it greets the agent:\n\n```python\nprint(\'hello, agent\')\n```\n\nRun it with `python hello.py`.';

const started = Date.now();
const children = [];
let browser;

function log(message) {
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  console.log(`[e2e ${t}s] ${message}`);
}

function killAll() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }
}

process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

function run(cmd, args, options = {}) {
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...options });
  children.push(child);
  return child;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(what, fn, timeout = STEP_TIMEOUT, interval = 200) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(interval);
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

function waitForLine(child, pattern, what) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}: ${buf.slice(-2000)}`)), STEP_TIMEOUT);
    const onData = (d) => {
      buf += d.toString();
      const m = pattern.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${what}: process exited with ${code}: ${buf.slice(-2000)}`)));
  });
}

async function main() {
  mkdirSync(RESULTS, { recursive: true });
  const root = mkdtempSync(path.join(tmpdir(), 'agent-ls-e2e-'));
  const dirs = {};
  for (const d of ['workspace', 'user-data', 'extensions', 'config', 'data', 'cache', 'agent-home', 'tmp']) {
    dirs[d] = path.join(root, d);
    mkdirSync(dirs[d], { recursive: true });
  }
  const file = path.join(dirs.workspace, 'hello.py');
  writeFileSync(file, ORIGINAL);
  const baseEnv = {
    ...process.env,
    XDG_CONFIG_HOME: dirs.config,
    XDG_DATA_HOME: dirs.data,
    XDG_CACHE_HOME: dirs.cache,
    AGENT_LS_HOME: dirs['agent-home'],
    TMPDIR: dirs.tmp,
  };

  try {
    // 0. 200 older sessions in the store: the oldest is only reachable by searching or paging.
    const seed = spawnSync(
      PYTHON,
      [
        '-c',
        [
          'import sys, pathlib',
          'from agent_ls.sessions.store import SessionStore',
          'store = SessionStore(pathlib.Path(sys.argv[1]))',
          "store.create(name='needle: the oldest session')",
          "for i in range(198): store.create(name=f'seeded session {i:03d}')",
          'store.create()',
        ].join('\n'),
        dirs.workspace,
      ],
      { env: baseEnv, encoding: 'utf8', timeout: 120_000 },
    );
    if (seed.status !== 0) throw new Error(`seeding sessions failed: ${seed.stderr}`);
    log('seeded 200 sessions');

    // 1. The fake Anthropic API, with the agent's turns queued: a write_file call, then a reply.
    log('starting the fake Anthropic API');
    const fake = run(PYTHON, [path.join(REPO, 'tests/fakes/anthropic_server.py'), '--port-file', path.join(root, 'fake.port')], {
      cwd: REPO,
      env: baseEnv,
    });
    const [, apiUrl] = await waitForLine(fake, /listening on (http:\/\/127\.0\.0\.1:\d+)/, 'the fake API');
    const queue = async (turns, reset = false) => {
      if (reset) await fetch(`${apiUrl}/_reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      const r = await fetch(`${apiUrl}/_script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(turns) });
      if (!r.ok) throw new Error(`POST /_script: ${r.status} ${await r.text()}`);
    };
    const BASICS = [
      { content: [{ type: 'tool_use', name: 'write_file', input: { path: 'hello.py', content: EDITED } }] },
      { content: [{ type: 'text', text: REPLY }], chunk_size: 6, delay_ms: 60 },
    ];
    await queue(BASICS);

    // 2. code-server with the .vsix installed and the server pointed at the fake API.
    log('installing the .vsix');
    const common = ['--user-data-dir', dirs['user-data'], '--extensions-dir', dirs.extensions];
    const install = spawnSync(CODE_SERVER_BIN, [...common, '--install-extension', VSIX], { env: baseEnv, encoding: 'utf8', timeout: 120_000 });
    if (install.status !== 0) throw new Error(`--install-extension failed: ${install.stdout}\n${install.stderr}`);
    const settingsDir = path.join(dirs['user-data'], 'User');
    mkdirSync(settingsDir, { recursive: true });
    writeFileSync(
      path.join(settingsDir, 'settings.json'),
      JSON.stringify(
        {
          'agentLs.pythonPath': PYTHON,
          'workbench.startupEditor': 'none',
          'workbench.tips.enabled': false,
          'workbench.enableExperiments': false,
          'workbench.colorTheme': 'Default Dark Modern',
          'security.workspace.trust.enabled': false,
          'telemetry.telemetryLevel': 'off',
          'extensions.autoUpdate': false,
          'extensions.autoCheckUpdates': false,
          'extensions.ignoreRecommendations': true,
          'update.mode': 'none',
          'chat.commandCenter.enabled': false,
          'workbench.secondarySideBar.defaultVisibility': 'hidden',
          'editor.minimap.enabled': false,
        },
        null,
        2,
      ),
    );
    const port = await freePort();
    const configFile = path.join(root, 'code-server.yaml');
    writeFileSync(configFile, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
    log(`starting code-server on port ${port}`);
    const cs = run(
      CODE_SERVER_BIN,
      [
        '--config', configFile,
        '--auth', 'none',
        '--bind-addr', `127.0.0.1:${port}`,
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        '--disable-getting-started-override',
        ...common,
        dirs.workspace,
      ],
      { env: { ...baseEnv, ANTHROPIC_BASE_URL: apiUrl, ANTHROPIC_API_KEY: 'test' } },
    );
    let csLog = '';
    cs.stdout.on('data', (d) => (csLog += d));
    cs.stderr.on('data', (d) => (csLog += d));
    const base = `http://127.0.0.1:${port}`;
    await waitFor('code-server to answer', async () => (await fetch(`${base}/healthz`)).ok, 60_000, 300);

    // 3. Chromium on the workbench.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    await page.goto(`${base}/?folder=${encodeURIComponent(dirs.workspace)}`);
    await page.waitForSelector('.monaco-workbench .part.activitybar', { timeout: 90_000 });
    log('workbench loaded');
    const shot = (name) => page.screenshot({ path: path.join(RESULTS, `e2e-${name}.png`) });

    const palette = async (command, pick) => {
      await page.locator('.monaco-workbench .part.editor').click({ position: { x: 300, y: 300 } });
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget input.input');
      await input.waitFor({ state: 'visible' });
      await input.fill(`>${command}`);
      await page.locator('.quick-input-list .monaco-list-row', { hasText: pick ?? command }).first().waitFor();
      await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: pick ?? command }).waitFor();
      await page.keyboard.press('Enter');
    };

    // The chat panel: open the Agent container, then find the webview frame holding #prompt.
    await page.locator('.part.activitybar .action-item a[aria-label^="Agent"]').first().click();
    const findChat = () =>
      waitFor('the chat webview', async () => {
        for (const frame of page.frames()) {
          if (frame.url().includes('fake.html') || frame.url().includes('index.html')) {
            if (await frame.$('#prompt')) return frame;
          }
        }
        return undefined;
      }, 90_000, 500);
    let chat = await findChat();
    await chat.waitForSelector('body[data-connection="ready"]', { timeout: 90_000 });
    log('chat panel connected to the server');
    const firstSession = await chat.locator('#session-select').inputValue();

    if (PART !== 'basics') {
      const requests = async () => (await fetch(`${apiUrl}/_requests`)).json();
      await turnControls({ page, chat, palette, queue, requests, workspace: dirs.workspace });
      // The basics' turns again, first in the queue.
      await queue(BASICS, true);
      if (PART === 'turns') {
        log(`passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return { ok: true, root, csLog };
      }
    }

    // 4. New session from the command palette (the panel may show the turn controls' session).
    const shown = await chat.locator('#session-select').inputValue();
    await palette('Agent: New Session');
    await waitFor('a new session in the panel', async () => {
      const v = await chat.locator('#session-select').inputValue();
      return v && v !== firstSession && v !== shown ? v : undefined;
    });
    const newSession = await chat.locator('#session-select').inputValue();
    log(`new session ${newSession} (first: ${firstSession})`);
    await waitFor('the sessions tree to list both', async () =>
      (await page.locator('.pane-body .monaco-list-row', { hasText: 'New session' }).count()) >= 2,
    );

    // 5. Prompt it; see the reply stream and the edit land.
    await chat.locator('#prompt').fill(PROMPT);
    await chat.locator('#prompt').press('Enter');
    log('prompt sent');
    await chat.waitForSelector('.msg.assistant.streaming');
    log('reply is streaming');
    await shot('streaming');
    await chat.waitForSelector('body[data-running="false"]', { timeout: 90_000 });
    const replyText = await chat.locator('.msg.assistant .markdown').last().textContent();
    if (!replyText.includes('I changed hello.py so it greets the agent')) throw new Error(`unexpected reply: ${replyText}`);
    if ((await chat.locator('.msg.assistant .markdown strong').last().textContent()) !== 'hello.py') throw new Error('markdown not rendered');
    await chat.waitForSelector('.msg.assistant pre code.language-python');
    await chat.waitForSelector('.tool[data-status="completed"]');
    const toolTitle = await chat.locator('.tool .title').first().textContent();
    if (!toolTitle.includes('hello.py')) throw new Error(`unexpected tool title: ${toolTitle}`);
    await waitFor('the agent’s edit on disk', () => readFileSync(file, 'utf8') === EDITED);
    log('reply streamed; hello.py edited on disk');
    // The edit is visible in the editor too.
    await page.locator('.monaco-workbench .part.editor').click({ position: { x: 300, y: 300 } });
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input.input').fill('hello.py');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'hello.py' }).first().waitFor();
    await page.keyboard.press('Enter');
    await waitFor('the edit in the editor', async () =>
      (await page.locator('.editor-instance .view-lines').first().textContent())?.replace(/\u00a0/g, ' ').includes("print('hello, agent')"),
    );

    // 6. The checkpoint: View changes opens VS Code's diff editor, Revert restores the file.
    const checkpoint = chat.locator('.checkpoint').last();
    await checkpoint.waitFor();
    const title = await checkpoint.locator('.checkpoint-title').textContent();
    if (!title.includes('1 file changed')) throw new Error(`unexpected checkpoint: ${title}`);
    await page.locator('.part.sidebar').screenshot({ path: path.join(RESULTS, 'vscode-panel-turn.png') });
    await checkpoint.locator('button.view-changes').click();
    await page.waitForSelector('.monaco-diff-editor');
    await waitFor('both sides of the diff', async () => {
      const text = (await page.locator('.monaco-diff-editor').first().textContent())?.replace(/\u00a0/g, ' ') ?? '';
      return text.includes("print('hello')") && text.includes("print('hello, agent')");
    });
    log('diff editor shows the checkpoint');
    await shot('diff');
    await checkpoint.locator('button.revert').click();
    await checkpoint.locator('.revert-result .summary', { hasText: 'Reverted.' }).waitFor();
    await waitFor('hello.py restored on disk', () => readFileSync(file, 'utf8') === ORIGINAL);
    if (!(await checkpoint.locator('button.undo').count())) throw new Error('no Undo offered after the revert');
    log('reverted; hello.py restored');
    await shot('reverted');
    await page.locator('.part.sidebar').screenshot({ path: path.join(RESULTS, 'vscode-panel-reverted.png') });

    // Switch Session searches all 200+ sessions on the server, the oldest included.
    await palette('Agent: Switch Session');
    await page.locator('.quick-input-widget input.input').fill('needle');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'needle: the oldest session' }).first().waitFor();
    await page.keyboard.press('Escape');
    log('Switch Session found the oldest of 200 sessions by searching');

    // 7. Switch sessions: the transcript follows.
    await chat.locator('#session-select').selectOption(firstSession);
    await waitFor('the first session’s (empty) transcript', async () =>
      (await chat.locator('.msg').count()) === 0 && (await chat.locator('#empty').isVisible()),
    );
    log('switched to the first session');
    await palette('Agent: Switch Session');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: PROMPT }).first().click();
    await waitFor('the prompted session’s transcript', async () =>
      (await chat.locator('#session-select').inputValue()) === newSession &&
      (await chat.locator('.msg.assistant .markdown', { hasText: 'greets the agent' }).count()) > 0,
    );
    await chat.locator('.msg.user .body', { hasText: PROMPT }).first().waitFor();
    log('switched back with the quick pick; transcript restored from the server');

    // 8. A command needs permission: the panel asks, Allow once lets it run.
    const more = await fetch(`${apiUrl}/_script`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { content: [{ type: 'tool_use', name: 'run_command', input: { command: 'cat hello.py' } }] },
        { content: [{ type: 'text', text: 'It prints `hello` again.' }] },
      ]),
    });
    if (!more.ok) throw new Error(`POST /_script: ${more.status}`);
    await chat.locator('#prompt').fill('Show me hello.py');
    await chat.locator('#prompt').press('Enter');
    const permission = chat.locator('.permission');
    await permission.waitFor();
    const options = await permission.locator('button').allTextContents();
    if (!options.includes('Allow once') || !options.includes('Reject')) throw new Error(`unexpected options: ${options}`);
    await page.locator('.part.sidebar').screenshot({ path: path.join(RESULTS, 'vscode-panel-permission.png') });
    // While the agent works, the status bar item spins.
    await page.locator('.statusbar-item .codicon-loading').first().waitFor();
    await permission.locator('button', { hasText: 'Allow once' }).click();
    await chat.locator('.permission').waitFor({ state: 'detached' });
    await chat.waitForSelector('body[data-running="false"]');
    await chat.locator('.msg.assistant .markdown', { hasText: 'It prints hello again.' }).waitFor();
    const ran = chat.locator('.tool', { hasText: 'cat hello.py' });
    if ((await ran.getAttribute('data-status')) !== 'completed') throw new Error('the command did not complete');
    // Its output is in the tool card (the tail the server streams, the exit code line last).
    await waitFor('the command output in its card', async () =>
      (await ran.locator('.tool-output pre').textContent())?.includes("print('hello')"),
    );
    log('permission asked in the panel; the allowed command ran');
    await page.locator('.part.sidebar').screenshot({ path: path.join(RESULTS, 'vscode-panel.png') });

    // Always allow: the panel says what was remembered; Agent: Manage Permissions revokes it.
    const always = await fetch(`${apiUrl}/_script`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { content: [{ type: 'tool_use', name: 'run_command', input: { command: 'ls' } }] },
        { content: [{ type: 'text', text: 'Listed.' }] },
      ]),
    });
    if (!always.ok) throw new Error(`POST /_script: ${always.status}`);
    await chat.locator('#prompt').fill('List the files');
    await chat.locator('#prompt').press('Enter');
    await chat.locator('.permission button', { hasText: 'Always allow' }).click();
    await chat.locator('.notice', { hasText: 'Remembered for this session: always allow `ls`' }).waitFor();
    await chat.waitForSelector('body[data-running="false"]');
    await palette('Agent: Manage Permissions');
    const rule = page.locator('.quick-input-list .monaco-list-row', { hasText: 'ls' }).first();
    await rule.waitFor();
    await rule.locator('input[type="checkbox"], .monaco-checkbox, .quick-input-list-checkbox').first().click();
    await page.keyboard.press('Enter');
    await page.locator('.notifications-toasts', { hasText: 'revoked 1 permission' }).waitFor();
    log('an "always" answer was shown as remembered, then revoked with Agent: Manage Permissions');

    // Cancel while a long reply streams: what arrived stays, the turn ends as cancelled.
    const long = await fetch(`${apiUrl}/_script`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ content: [{ type: 'text', text: 'word '.repeat(400) }], chunk_size: 5, delay_ms: 100 }]),
    });
    if (!long.ok) throw new Error(`POST /_script: ${long.status}`);
    await chat.locator('#prompt').fill('Write a long answer');
    await chat.locator('#prompt').press('Enter');
    await chat.waitForSelector('.msg.assistant.streaming');
    await chat.locator('#cancel').click();
    await chat.waitForSelector('body[data-running="false"]');
    await chat.locator('.notice', { hasText: 'Cancelled.' }).waitFor();
    const kept = await chat.locator('.msg.assistant .markdown').last().textContent();
    if (!kept.startsWith('word')) throw new Error(`the streamed part was not kept: ${kept}`);
    if (await page.locator('.statusbar-item .codicon-loading').count()) throw new Error('status bar still spinning');
    log('cancelled mid-stream; the streamed text stays');

    // Insert at Cursor: a reply's code block goes into the editor at its cursor.
    await page.locator('.monaco-workbench .part.editor').click({ position: { x: 300, y: 300 } });
    await page.keyboard.press('F1');
    await page.locator('.quick-input-widget input.input').fill('>File: New Untitled Text File');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: /^File: New Untitled Text File/ }).first().click();
    await page.locator('.part.editor .tab.active', { hasText: 'Untitled-1' }).waitFor();
    const untitled = page.locator('.part.editor .editor-group-container.active .editor-instance .view-lines').first();
    if ((await untitled.textContent())?.includes('hello')) throw new Error('the new untitled editor is not the active one');
    await chat.locator('.msg.assistant .code-block', { hasText: "print('hello, agent')" }).first().locator('button.code-insert').click();
    await waitFor('the code block in the untitled editor', async () =>
      (await untitled.textContent())?.replace(/\u00a0/g, ' ').includes("print('hello, agent')"),
    );
    log('Insert at Cursor put the code block into the editor');

    // 9. A server that cannot start: the panel says why and how to fix it; fixing it reconnects.
    // (Workspace settings: VS Code watches the folder, so an edit on disk is a configuration change.)
    const workspaceSettings = path.join(dirs.workspace, '.vscode', 'settings.json');
    mkdirSync(path.dirname(workspaceSettings), { recursive: true });
    writeFileSync(workspaceSettings, JSON.stringify({ 'agentLs.pythonPath': '/nonexistent/bin/python' }));
    await chat.waitForSelector('body[data-connection="failed"]');
    const banner = await chat.locator('#banner').textContent();
    if (!banner.includes('/nonexistent/bin/python') || !banner.includes('Fix:') || !banner.includes('agentLs.pythonPath')) {
      throw new Error(`unhelpful start failure: ${banner}`);
    }
    await shot('start-failure');
    writeFileSync(workspaceSettings, '{}');
    await chat.waitForSelector('body[data-connection="ready"]');
    await chat.locator('.msg.user .body', { hasText: 'Write a long answer' }).waitFor();
    log('start failure explained with its fix; the server came back with the session');

    // A selection sent with Ctrl+Esc shows as a chip (file:line) that survives a window reload.
    const helloName = page.locator('.label-name', { hasText: /^hello\.py$/ });
    await page.locator('.part.editor .tab').filter({ has: helloName }).first().click();
    await page.locator('.part.editor .tab.active').filter({ has: helloName }).waitFor();
    await page.locator('.part.editor .editor-group-container.active .editor-instance .view-lines').first().click();
    await page.keyboard.press('Control+A');
    const explain = await fetch(`${apiUrl}/_script`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ content: [{ type: 'text', text: 'It prints a greeting.' }] }]),
    });
    if (!explain.ok) throw new Error(`POST /_script: ${explain.status}`);
    await page.keyboard.press('Control+Escape');
    await page.locator('.quick-input-widget input.input').waitFor({ state: 'visible' });
    await page.keyboard.press('Enter');
    const chip = chat.locator('.msg.user .chip', { hasText: 'hello.py:1' }).last();
    await chip.waitFor();
    await chat.locator('.msg.assistant .markdown', { hasText: 'It prints a greeting.' }).waitFor();
    const bubble = await chat.locator('.msg.user .body').last().textContent();
    if (bubble !== 'Explain this code.') throw new Error(`the user's bubble shows more than the prompt: ${bubble}`);
    await page.reload();
    await page.waitForSelector('.monaco-workbench .part.activitybar', { timeout: 90_000 });
    await page.locator('.part.activitybar .action-item a[aria-label^="Agent"]').first().click();
    chat = await findChat();
    await chat.waitForSelector('body[data-connection="ready"]', { timeout: 90_000 });
    await chat.locator('.msg.user .chip', { hasText: 'hello.py:1' }).last().waitFor();
    // The turn cancelled earlier keeps its marker after the reload, as it was shown live.
    await chat.locator('.turn-end[data-stop-reason="cancelled"]').first().waitFor();
    log('the selection chip and the cancelled turn’s marker survived a window reload');

    // The server killed mid-turn: the panel says so, the client restarts it, the session comes back.
    const slow = await fetch(`${apiUrl}/_script`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ content: [{ type: 'text', text: 'slow '.repeat(400) }], chunk_size: 5, delay_ms: 100 }]),
    });
    if (!slow.ok) throw new Error(`POST /_script: ${slow.status}`);
    await chat.locator('#prompt').fill('Answer slowly');
    await chat.locator('#prompt').press('Enter');
    await chat.waitForSelector('.msg.assistant.streaming');
    const servers = agentLsServers(dirs['agent-home']);
    if (servers.length !== 1) throw new Error(`expected one agent-ls server, found ${servers.length}`);
    process.kill(servers[0], 'SIGKILL');
    await chat.locator('.notice', { hasText: 'stopped during this turn' }).first().waitFor();
    await chat.waitForSelector('body[data-connection="ready"]', { timeout: 90_000 });
    await chat.locator('.msg.user .body', { hasText: 'Answer slowly' }).waitFor();
    log('a server killed mid-turn: the panel said so and the restarted server reloaded the session');

    // High Contrast, dark and light: the code in a reply stays readable (docs screenshots).
    await chat.locator('#session-select').selectOption(newSession);
    await chat.locator('.msg.assistant pre code.language-python').first().waitFor();
    for (const [theme, kind, file] of [
      ['Dark High Contrast', 'vscode-high-contrast', 'vscode-dark-high-contrast.png'],
      ['Light High Contrast', 'vscode-high-contrast-light', 'vscode-light-high-contrast.png'],
    ]) {
      // Preferences: Color Theme, by its keybinding.
      await page.locator('.monaco-workbench .part.editor').click({ position: { x: 300, y: 300 } });
      await page.keyboard.press('Control+K');
      await page.keyboard.press('Control+T');
      const themeInput = page.locator('.quick-input-widget input.input');
      await themeInput.fill(theme);
      await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: theme }).waitFor();
      await page.keyboard.press('Enter');
      await chat.waitForSelector(`body.${kind}`);
      const worst = await chat.evaluate(() => {
        const rgb = (c) => (c.match(/[\d.]+/g) ?? []).map(Number);
        const lum = ([r, g, b]) => {
          const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
          return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
        };
        const behind = (el) => {
          for (let e = el; e; e = e.parentElement) {
            const c = rgb(getComputedStyle(e).backgroundColor);
            if (c.length && (c[3] ?? 1) >= 1) return c;
          }
          return [255, 255, 255];
        };
        let min = Infinity;
        for (const el of document.querySelectorAll('.msg.assistant code, .msg.assistant code span')) {
          const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(behind(el))].sort((p, q) => q - p);
          min = Math.min(min, (a + 0.05) / (b + 0.05));
        }
        return min;
      });
      if (!(worst >= 4.5)) throw new Error(`${theme}: code contrast ${worst.toFixed(2)} is below 4.5`);
      await chat.locator('.msg.assistant .code-block').first().scrollIntoViewIfNeeded();
      await page.locator('.part.sidebar').screenshot({ path: path.join(RESULTS, file) });
      log(`${theme}: code readable (lowest contrast ${worst.toFixed(1)}:1)`);
    }
    await shot('final');
    log(`passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { ok: true, root, csLog };
  } catch (e) {
    return { ok: false, error: e, root };
  }
}

/**
 * Turn controls and search, on a session of their own: rewind to an earlier message with files
 * and undo it; a conflicting rewind that changes nothing until the user picks "Restore the
 * others"; retry after a failed turn (529); a full-text search hit opening its session there.
 */
async function turnControls({ page, chat, palette, queue, requests, workspace }) {
  const file = (name) => path.join(workspace, name);
  const read = (name) => readFileSync(file(name), 'utf8');
  writeFileSync(file('a.py'), 'a = 0\n');
  writeFileSync(file('b.py'), 'b = 0\n');
  const turn = (name, content, reply) => [
    { content: [{ type: 'tool_use', name: 'write_file', input: { path: name, content } }] },
    { content: [{ type: 'text', text: reply }] },
  ];
  await queue([...turn('a.py', 'a = 1\n', 'Set a to 1.'), ...turn('b.py', 'b = 1\n', 'Set b to 1.'), ...turn('a.py', 'a = 2\n', 'Set a to 2.')], true);
  const before = await chat.locator('#session-select').inputValue();
  await palette('Agent: New Session');
  await waitFor('a new session', async () => (await chat.locator('#session-select').inputValue()) !== before);
  const send = async (text, reply) => {
    await chat.locator('#prompt').fill(text);
    await chat.locator('#prompt').press('Enter');
    await chat.locator('.msg.assistant .markdown', { hasText: reply }).waitFor();
    await chat.waitForSelector('body[data-running="false"]');
  };
  await send('first: the zebra file a', 'Set a to 1.');
  await send('second: b', 'Set b to 1.');
  await send('third: a again', 'Set a to 2.');
  await waitFor('the three turns on disk', () => read('a.py') === 'a = 2\n' && read('b.py') === 'b = 1\n');
  const sessionId = await chat.locator('#session-select').inputValue();
  log('three turns, each changing a file');

  // Rewind to the second message, conversation and files: turns two and three are undone.
  const second = chat.locator('.msg.user', { hasText: 'second: b' });
  await second.locator('button.rewind-here').click();
  await second.locator('button.scope-both').click();
  await chat.locator('.rewind.rewind-done').waitFor();
  await waitFor('the files as before the second message', () => read('a.py') === 'a = 1\n' && read('b.py') === 'b = 0\n');
  await waitFor('the conversation before the second message', async () =>
    (await chat.locator('.msg.user').allTextContents()).every((t) => !t.includes('second: b')) &&
    (await chat.locator('.msg.user', { hasText: 'first: the zebra' }).count()) === 1,
  );
  await page.locator('.part.sidebar').screenshot({ path: path.join(RESULTS, 'vscode-panel-rewind.png') });
  await chat.locator('button.undo-rewind').click();
  await chat.locator('.rewind.rewind-undone').waitFor();
  await waitFor('the files back after the undo', () => read('a.py') === 'a = 2\n' && read('b.py') === 'b = 1\n');
  await chat.locator('.msg.user', { hasText: 'third: a again' }).waitFor();
  log('rewound to the second message with its files, then undone');

  // A second session: two turns change c.py and d.py; the user edits d.py where the agent did.
  // Rewinding to the first message conflicts and writes nothing until the user picks; "Restore
  // the others" restores c.py and leaves d.py alone.
  writeFileSync(file('c.py'), 'c = 0\n');
  writeFileSync(file('d.py'), 'd = 0\n');
  await queue([...turn('c.py', 'c = 1\n', 'Set c to 1.'), ...turn('d.py', 'd = 1\n', 'Set d to 1.')]);
  await palette('Agent: New Session');
  await waitFor('a second session', async () => (await chat.locator('#session-select').inputValue()) !== sessionId);
  await send('alpha: c', 'Set c to 1.');
  await send('beta: d', 'Set d to 1.');
  writeFileSync(file('d.py'), 'd = "mine"\n');
  const alpha = chat.locator('.msg.user', { hasText: 'alpha: c' });
  await alpha.locator('button.rewind-here').click();
  await alpha.locator('button.scope-files').click();
  const plan = chat.locator('.rewind.rewind-plan');
  await chat.locator('.rewind:not(.rewind-running)').waitFor();
  if (!(await plan.count())) throw new Error(`no plan for a conflicting rewind: ${await chat.locator('.rewind').textContent()}`);
  if (!(await plan.locator('.result-conflict').textContent()).includes('d.py')) throw new Error('the plan does not name d.py as the conflict');
  if (read('c.py') !== 'c = 1\n' || read('d.py') !== 'd = "mine"\n') throw new Error('a conflicting rewind wrote files before the user picked');
  await page.locator('.part.sidebar').screenshot({ path: path.join(RESULTS, 'vscode-panel-rewind-plan.png') });
  await plan.locator('button.partial').click();
  await chat.locator('.rewind.rewind-done').waitFor();
  await waitFor('c.py restored, d.py left alone', () => read('c.py') === 'c = 0\n' && read('d.py') === 'd = "mine"\n');
  if (!(await chat.locator('.rewind .result-skipped').textContent()).includes('d.py')) throw new Error('d.py is not reported as skipped');
  log('a conflicting rewind applied nothing until "Restore the others"');

  // Edits under review (workspace setting: edits ask first): each opens in the diff editor;
  // Accept there writes it, Reject leaves the file alone and the agent is told.
  const workspaceSettings = path.join(workspace, '.vscode', 'settings.json');
  mkdirSync(path.dirname(workspaceSettings), { recursive: true });
  const restarted = async (settings) => {
    const ready = chat.locator('body[data-connection="ready"]');
    writeFileSync(workspaceSettings, JSON.stringify(settings));
    await chat.waitForSelector('body:not([data-connection="ready"])').catch(() => undefined);
    await ready.waitFor({ timeout: 90_000 });
    await chat.locator('.msg.user', { hasText: 'beta: d' }).waitFor();
  };
  await restarted({ 'agentLs.permissions': { edit: 'ask' } });
  await queue([...turn('e.py', 'e = 1\n', 'Wrote e.py.'), ...turn('f.py', 'f = 1\n', 'Left f.py alone.')]);
  const review = async (prompt, action) => {
    await chat.locator('#prompt').fill(prompt);
    await chat.locator('#prompt').press('Enter');
    await chat.locator('.permission .review-files').waitFor();
    await page.locator('.tab', { hasText: 'Review:' }).first().waitFor();
    await page.locator('.monaco-diff-editor').first().waitFor();
    await page.locator(`.editor-actions [aria-label="${action}"]`).first().click();
    await chat.locator('.permission').waitFor({ state: 'detached' });
    await chat.waitForSelector('body[data-running="false"]');
  };
  await review('gamma: e', 'Accept Edit');
  await chat.locator('.msg.assistant .markdown', { hasText: 'Wrote e.py.' }).waitFor();
  await waitFor('the accepted edit on disk', () => existsSync(file('e.py')) && read('e.py') === 'e = 1\n');
  await review('delta: f', 'Reject Edit');
  await chat.locator('.msg.assistant .markdown', { hasText: 'Left f.py alone.' }).waitFor();
  if (existsSync(file('f.py'))) throw new Error('a rejected edit was written');
  if ((await page.locator('.tab', { hasText: 'Review:' }).count()) !== 0) throw new Error('the review tabs stayed open');
  await restarted({});
  log('edits reviewed in the diff editor: one accepted, one rejected');

  // A turn that fails (the API overloaded, through the SDK's retries): its marker offers Retry.
  const overloaded = { error: { status: 529, message: 'Overloaded' } };
  await queue([overloaded, overloaded, overloaded, { content: [{ type: 'text', text: 'Worked this time.' }] }]);
  await chat.locator('#prompt').fill('fourth: try hard');
  await chat.locator('#prompt').press('Enter');
  const failed = chat.locator('.turn-end[data-stop-reason="error"]');
  await failed.waitFor({ timeout: 90_000 });
  await chat.waitForSelector('body[data-running="false"]');
  await page.locator('.part.sidebar').screenshot({ path: path.join(RESULTS, 'vscode-panel-failed-turn.png') });
  await failed.locator('button.retry-turn').click();
  await chat.locator('.msg.assistant .markdown', { hasText: 'Worked this time.' }).waitFor();
  await chat.waitForSelector('body[data-running="false"]');
  await chat.locator('.msg.user', { hasText: 'fourth: try hard' }).waitFor();
  log('a failed turn retried from its marker');

  // Edit and resend: the edited message replaces the old one and what followed it.
  await queue([{ content: [{ type: 'text', text: 'Answered the edit.' }] }]);
  await chat.locator('.msg.user', { hasText: 'fourth: try hard' }).locator('button.edit-message').click();
  await chat.locator('#editing').waitFor();
  await chat.locator('#prompt').fill('fourth, edited');
  await chat.locator('#prompt').press('Enter');
  await chat.locator('.msg.assistant .markdown', { hasText: 'Answered the edit.' }).waitFor();
  await chat.waitForSelector('body[data-running="false"]');
  await waitFor('the old message replaced', async () =>
    (await chat.locator('.msg.user', { hasText: 'fourth: try hard' }).count()) === 0 &&
    (await chat.locator('.msg.user', { hasText: 'fourth, edited' }).count()) === 1 &&
    (await chat.locator('.msg.assistant', { hasText: 'Worked this time.' }).count()) === 0,
  );
  log('a message edited and resent replaced the old turn');

  // The prompt box: "@a." lists a.py (findFiles, .gitignore applied), Enter attaches it.
  writeFileSync(file('.gitignore'), 'ignored_*\n');
  writeFileSync(file('ignored_a.py'), 'x = 1\n');
  spawnSync('git', ['init', '-q', workspace]);
  await queue([{ content: [{ type: 'text', text: 'a.py sets a.' }] }]);
  await chat.locator('#prompt').click();
  await chat.locator('#prompt').pressSequentially('What is in @a.');
  const mention = chat.locator('#mentions .mention', { hasText: 'a.py' }).first();
  await mention.waitFor();
  const listed = await chat.locator('#mentions .mention').allTextContents();
  if (listed.some((l) => l.includes('ignored_a.py'))) throw new Error(`a git-ignored file was offered: ${listed}`);
  await chat.locator('#prompt').press('Enter');
  await chat.locator('#attachments .chip', { hasText: 'a.py' }).waitFor();
  await chat.locator('#prompt').press('Enter');
  await chat.locator('.msg.user .chip', { hasText: 'a.py' }).last().waitFor();
  await chat.locator('.msg.assistant .markdown', { hasText: 'a.py sets a.' }).waitFor();
  await chat.waitForSelector('body[data-running="false"]');
  log('an @ mention attached a.py (the git-ignored file was not offered)');

  // A pasted screenshot: a chip with its thumbnail, then a thumbnail in the sent message, and an
  // image block in the request the model gets.
  const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
  await queue([{ content: [{ type: 'text', text: 'A single pixel.' }] }]);
  await chat.locator('#prompt').click();
  const pasted = await chat.evaluate((base64) => {
    const data = new DataTransfer();
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    data.items.add(new File([bytes], 'image.png', { type: 'image/png' }));
    const event = new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: data });
    return !document.getElementById('prompt').dispatchEvent(event);
  }, PNG);
  if (!pasted) throw new Error('the paste of an image was left to the prompt box');
  await chat.locator('#attachments .chip.image', { hasText: 'PNG · 70 B' }).waitFor();
  await chat.locator('#prompt').fill('What is in this screenshot?');
  const asked = (await requests()).length;
  await chat.locator('#prompt').press('Enter');
  await chat.locator('.msg.user .images img').last().waitFor();
  await chat.locator('.msg.assistant .markdown', { hasText: 'A single pixel.' }).waitFor();
  await chat.waitForSelector('body[data-running="false"]');
  const sent = (await requests()).slice(asked).map((r) => JSON.stringify(r.body.messages.at(-1)));
  if (!sent.some((m) => m.includes('"type":"image"') && m.includes(PNG))) throw new Error(`no image block reached the model: ${sent}`);
  log('a pasted screenshot went to the model as an image block, its thumbnail in the message');

  // One Focus Chat in the palette; the chat also opens in an editor tab, on the same session.
  await page.locator('.monaco-workbench .part.editor').click({ position: { x: 300, y: 300 } });
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget input.input').fill('>Agent: Focus');
  await page.locator('.quick-input-list .monaco-list-row').first().waitFor();
  const focusRows = await page.locator('.quick-input-list .monaco-list-row').allTextContents();
  if (focusRows.filter((t) => /Agent: Focus.*Chat/.test(t)).length !== 1) throw new Error(`expected one Focus Chat command: ${focusRows}`);
  await page.keyboard.press('Escape');
  // Ctrl+Esc (no selection) focuses the chat with the caret in the prompt box.
  await page.locator('.monaco-workbench .part.editor').click({ position: { x: 300, y: 300 } });
  await page.keyboard.press('Control+Escape');
  await waitFor('the prompt box focused', () => chat.evaluate(() => document.activeElement?.id === 'prompt'));
  await palette('Agent: Open Chat in Editor');
  await page.locator('.part.editor .tab', { hasText: 'Agent Chat' }).waitFor();
  const inEditor = await waitFor('the chat in an editor tab', async () => {
    for (const frame of page.frames()) {
      if (frame === chat || !(await frame.$('#prompt'))) continue;
      if ((await frame.locator('#session-select').inputValue().catch(() => '')) === (await chat.locator('#session-select').inputValue())) return frame;
    }
    return undefined;
  });
  await inEditor.locator('.msg.user', { hasText: 'alpha: c' }).waitFor();
  await page.keyboard.press('Control+W');
  log('one Focus Chat command; the chat opened in an editor tab on the same session');

  // Full-text search from the second session: the hit opens the first at that message.
  await palette('Agent: Search Sessions');
  await page.locator('.quick-input-widget input.input').fill('zebra');
  const hit = page.locator('.quick-input-list .monaco-list-row', { hasText: '«zebra»' }).first();
  await hit.waitFor();
  await hit.click();
  await waitFor('the hit’s session', async () => (await chat.locator('#session-select').inputValue()) === sessionId);
  await chat.locator('.msg.user.focused', { hasText: 'zebra' }).waitFor();
  log('a search hit opened its session at the message');

  // Export Session… as Markdown to the file the save dialog proposes.
  await palette('Agent: Export Session…');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Markdown' }).first().click();
  const saveInput = page.locator('.quick-input-widget input.input');
  await waitFor('the save dialog', async () => (await saveInput.inputValue()).endsWith('.md'));
  const exported = path.join(workspace, path.basename(await saveInput.inputValue()));
  await page.keyboard.press('Enter');
  await waitFor('the exported Markdown', () => existsSync(exported) && readFileSync(exported, 'utf8').includes('zebra'));
  log(`exported the session as Markdown (${path.basename(exported)})`);

  // Delete the second session, then bring it back with Restore from Trash.
  const secondId = await chat.locator('#session-select').inputValue();
  await palette('Agent: Switch Session');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'alpha: c' }).first().click();
  await waitFor('the second session', async () => (await chat.locator('#session-select').inputValue()) !== secondId);
  await palette('Agent: Delete Session');
  await page.locator('.monaco-dialog-box .monaco-button', { hasText: /^Delete$/ }).click();
  await waitFor('the session gone from the tree', async () =>
    (await page.locator('.pane-body .monaco-list-row', { hasText: 'alpha: c' }).count()) === 0,
  );
  await palette('Agent: Restore from Trash');
  const trashed = page.locator('.quick-input-list .monaco-list-row', { hasText: 'alpha: c' }).first();
  await trashed.waitFor();
  await trashed.click();
  await page.locator('.quick-input-widget', { hasText: '1 Selected' }).waitFor();
  await page.keyboard.press('Enter');
  await page.locator('.pane-body .monaco-list-row', { hasText: 'alpha: c' }).first().waitFor();
  log('a deleted session came back with Restore from Trash');

  // Tags: Edit Tags… on the active session shows them on its row; the tag filter lists only it.
  await palette('Agent: Edit Tags…');
  const tagInput = page.locator('.quick-input-widget input.input');
  await tagInput.waitFor({ state: 'visible' });
  await tagInput.fill('zoo');
  await page.keyboard.press('Enter');
  const tagged = page.locator('.pane-body .monaco-list-row', { hasText: '#zoo' });
  await tagged.first().waitFor();
  await palette('Agent: Filter Sessions by Tag…');
  const tagRow = page.locator('.quick-input-list .monaco-list-row', { hasText: '#zoo' }).first();
  await tagRow.click();
  await page.locator('.quick-input-widget', { hasText: '1 Selected' }).waitFor();
  await page.keyboard.press('Enter');
  await waitFor('only the tagged session listed', async () =>
    (await page.locator('.pane-body .monaco-list-row', { hasText: 'seeded session' }).count()) === 0 && (await tagged.count()) === 1,
  );
  await palette('Agent: Filter Sessions by Tag…');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Show all sessions' }).first().click();
  await page.keyboard.press('Enter');
  await page.locator('.pane-body .monaco-list-row', { hasText: 'seeded session' }).first().waitFor();
  log('a session tagged, the list filtered by its tag and shown whole again');
}

/** The agent-ls servers of this test (by their AGENT_LS_HOME), to kill one by its pid. */
function agentLsServers(home) {
  const pids = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      const environ = readFileSync(`/proc/${name}/environ`, 'utf8');
      if (cmdline.includes('agent_ls') && environ.split('\0').includes(`AGENT_LS_HOME=${home}`)) pids.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

/** On failure: the tail of the extension host's and the server's logs, for the reader. */
function dumpLogs(root) {
  const found = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/Agent LS|exthost\.log|remoteagent\.log/.test(name)) found.push(p);
    }
  };
  try {
    walk(path.join(root, 'user-data', 'logs'));
  } catch {
    return;
  }
  for (const p of found) {
    const text = readFileSync(p, 'utf8');
    console.error(`----- ${path.relative(root, p)} (last 4000 chars)\n${text.slice(-4000)}`);
  }
}

const timer = setTimeout(() => {
  console.error(`[e2e] timed out after ${TOTAL_TIMEOUT / 1000} s`);
  killAll();
  process.exit(1);
}, TOTAL_TIMEOUT);

const result = await main();
clearTimeout(timer);
if (!result.ok && result.root) dumpLogs(result.root);
if (!result.ok && browser) {
  try {
    const pages = browser.contexts().flatMap((c) => c.pages());
    if (pages[0]) await pages[0].screenshot({ path: path.join(RESULTS, 'e2e-failure.png') });
  } catch {
    // best effort
  }
}
await browser?.close().catch(() => {});
killAll();
if (!KEEP && result.root && existsSync(result.root)) {
  // Give killed processes a moment to let go of their files.
  await sleep(300);
  rmSync(result.root, { recursive: true, force: true, maxRetries: 3 });
}
if (!result.ok) {
  console.error('[e2e] FAILED:', result.error?.stack ?? result.error);
  process.exit(1);
}
process.exit(0);
