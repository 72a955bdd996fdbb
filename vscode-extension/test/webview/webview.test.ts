/**
 * The chat webview's own HTML/JS in headless Chromium, with a fake `acquireVsCodeApi`: the page
 * is the real shell (chatHtml) with the real bundled script and stylesheet, served from a fake
 * origin; the test plays the extension host by posting the host's messages to the page.
 */
import * as path from 'node:path';

import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { HostMessage, WebviewMessage } from '../../src/messages';
import type { SessionInfo } from '../../src/protocol';
import { type ChatAction, type ChatState, initialState, reduce } from '../../src/transcript';
import { SHOTS, bundle, launch, newPage } from './harness';

let browser: Browser;
let page: Page;
let script: string;

const THEME = {
  '--vscode-foreground': 'rgb(10, 20, 30)',
  '--vscode-button-background': 'rgb(0, 90, 158)',
  '--vscode-font-family': 'sans-serif',
};

const session = (id: string, over: Partial<SessionInfo> = {}): SessionInfo => ({
  sessionId: id,
  workspace: '/w',
  createdAt: '2026-11-22T10:00:00Z',
  modifiedAt: new Date(Date.now() - 5 * 60_000).toISOString(),
  messageCount: 2,
  firstMessage: `first message of ${id}`,
  ...over,
});

async function open(): Promise<void> {
  await page.waitForFunction(() => (window as unknown as { __posted: WebviewMessage[] }).__posted.some((m) => m.type === 'ready'));
}

async function posted(): Promise<WebviewMessage[]> {
  return page.evaluate(() => (window as unknown as { __posted: WebviewMessage[] }).__posted);
}

async function clearPosted(): Promise<void> {
  await page.evaluate(() => {
    (window as unknown as { __posted: WebviewMessage[] }).__posted = [];
  });
}

async function lastPosted(type: WebviewMessage['type']): Promise<WebviewMessage | undefined> {
  await page.waitForFunction((t) => (window as unknown as { __posted: WebviewMessage[] }).__posted.some((m) => m.type === t), type);
  return (await posted()).filter((m) => m.type === type).at(-1);
}

/** Plays the host: keeps its own state with the same reducer and sends the same actions. */
let hostState: ChatState;
async function host(...actions: ChatAction[]): Promise<void> {
  for (const action of actions) {
    hostState = reduce(hostState, action);
    const message: HostMessage = { type: 'action', action };
    await page.evaluate((m) => window.postMessage(m, '*'), message);
  }
  // window.postMessage is asynchronous: wait for a round trip through the event loop.
  await page.evaluate(() => new Promise((r) => setTimeout(r, 0)));
}

async function ready(sessions = [session('s1', { name: 'Login bug' }), session('s2')]): Promise<void> {
  hostState = initialState();
  await host(
    { type: 'connection', status: 'ready' },
    { type: 'reset', page: { session: sessions[0], items: [], hasMore: false } },
    { type: 'sessions', sessions },
  );
}

beforeAll(async () => {
  script = await bundle('src/webview/main.ts');
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
});

afterEach(async () => {
  await page?.context().close();
});

beforeEach(async () => {
  page = await newPage(browser, script, { theme: THEME });
  await open();
});

describe('chat webview', () => {
  it('asks for state on load and shows the snapshot with the session switcher', async () => {
    expect(await posted()).toEqual([{ type: 'ready' }]);
    expect(await page.locator('#banner').textContent()).toContain('Starting agent-ls');
    // A snapshot is what the host sends after `ready`: the whole state restored from the server.
    let state = initialState();
    state = reduce(state, { type: 'connection', status: 'ready' });
    state = reduce(state, {
      type: 'reset',
      page: {
        session: session('s1', { name: 'Login bug' }),
        items: [
          { entryId: 'e1', kind: 'user', content: 'Where is login?' },
          { entryId: 'e2', kind: 'assistant', content: [{ type: 'text', text: 'In `auth.py`.' }] },
        ],
        hasMore: true,
      },
    });
    state = reduce(state, { type: 'sessions', sessions: [session('s1', { name: 'Login bug' }), session('s2')] });
    hostState = state;
    await page.evaluate((m) => window.postMessage(m, '*'), { type: 'action', action: { type: 'snapshot', state } } as HostMessage);
    await page.waitForSelector('.msg.assistant code');
    expect(await page.locator('#banner').isHidden()).toBe(true);
    expect(await page.locator('.msg.user .body').textContent()).toBe('Where is login?');
    expect(await page.locator('.msg.assistant .markdown').innerHTML()).toContain('<code>auth.py</code>');
    expect(await page.locator('#session-select option').allTextContents()).toEqual(['Login bug', 'first message of s2']);
    expect(await page.locator('#session-select').inputValue()).toBe('s1');
    await page.locator('.load-more').click();
    expect(await lastPosted('loadMore')).toEqual({ type: 'loadMore' });
  });

  it('streams a reply with markdown and code, escaping any HTML', async () => {
    await ready();
    await page.evaluate(() => {
      (window as unknown as { __xss?: boolean }).__xss = false;
    });
    await host({ type: 'promptStarted', text: 'Explain' });
    expect(await page.locator('.msg.user.pending').count()).toBe(1);
    await host({ type: 'update', params: { sessionId: 's1', turnId: 't1', update: { kind: 'user_message', content: 'Explain' } } });
    expect(await page.locator('.msg.user.pending').count()).toBe(0);
    const chunks = ['Here is **the** fix', ':\n\n```python\ndef f(a, b):\n', '    return a < b\n```\n', '<img src=x onerror="window.__xss=true">'];
    for (const [i, text] of chunks.entries()) {
      await host({ type: 'update', params: { sessionId: 's1', turnId: 't1', update: { kind: 'agent_message_chunk', content: { type: 'text', text } } } });
      if (i === 0) expect(await page.locator('.msg.assistant.streaming .markdown strong').textContent()).toBe('the');
    }
    expect(await page.locator('.msg.assistant.streaming').count()).toBe(1);
    expect(await page.locator('.msg.assistant pre code.language-python').textContent()).toBe('def f(a, b):\n    return a < b');
    expect(await page.locator('.msg.assistant img').count()).toBe(0);
    expect(await page.locator('.msg.assistant').textContent()).toContain('<img src=x');
    expect(await page.locator('#status').textContent()).toContain('Working');
    await host({ type: 'progress', message: 'Running pytest' });
    expect(await page.locator('#status').textContent()).toContain('Running pytest');
    await host({ type: 'promptEnded', result: { stopReason: 'end_turn', usage: { inputTokens: 1234, outputTokens: 56 } } });
    expect(await page.locator('.msg.assistant.streaming').count()).toBe(0);
    expect(await page.locator('#status').textContent()).toBe('Last turn: 1,234 tokens in · 56 out');
    expect(await page.evaluate(() => (window as unknown as { __xss?: boolean }).__xss)).toBe(false);
    await page.screenshot({ path: path.join(SHOTS, 'webview-streamed.png') });
  });

  it('sends on Enter, adds a line on Shift+Enter, and cancels while running', async () => {
    await ready();
    await clearPosted();
    const box = page.locator('#prompt');
    await box.focus();
    await page.keyboard.type('line one');
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type('line two');
    expect(await box.inputValue()).toBe('line one\nline two');
    expect((await posted()).filter((m) => m.type === 'prompt')).toEqual([]);
    await page.keyboard.press('Enter');
    expect(await lastPosted('prompt')).toEqual({ type: 'prompt', text: 'line one\nline two' });
    expect(await box.inputValue()).toBe('');
    // Empty prompts are not sent.
    await page.keyboard.press('Enter');
    expect((await posted()).filter((m) => m.type === 'prompt')).toHaveLength(1);
    expect(await page.locator('#cancel').isHidden()).toBe(true);
    await host({ type: 'promptStarted', text: 'line one\nline two' });
    expect(await page.locator('#cancel').isVisible()).toBe(true);
    expect(await page.locator('#send').isDisabled()).toBe(true);
    await page.locator('#cancel').click();
    expect(await lastPosted('cancel')).toEqual({ type: 'cancel' });
    await clearPosted();
    await box.focus();
    await page.keyboard.press('Escape');
    expect(await lastPosted('cancel')).toEqual({ type: 'cancel' });
    await host({ type: 'promptEnded', result: { stopReason: 'cancelled' } });
    expect(await page.locator('#cancel').isHidden()).toBe(true);
    expect(await page.locator('.notice.warning').textContent()).toBe('Cancelled.');
  });

  it('shows tool calls compactly with their status', async () => {
    await ready();
    await host(
      { type: 'promptStarted', text: 'Edit' },
      {
        type: 'update',
        params: { sessionId: 's1', turnId: 't1', update: { kind: 'tool_call', toolCallId: 'c1', title: 'Write src/a.py', toolKind: 'edit', status: 'in_progress', locations: [{ path: 'src/a.py' }] } },
      },
    );
    const tool = page.locator('.tool[data-tool-call-id="c1"]');
    expect(await tool.getAttribute('data-status')).toBe('in_progress');
    expect(await tool.locator('.title').textContent()).toBe('Write src/a.py');
    await host({
      type: 'update',
      params: {
        sessionId: 's1',
        turnId: 't1',
        update: { kind: 'tool_call_update', toolCallId: 'c1', status: 'completed', content: [{ type: 'content', content: { type: 'text', text: 'wrote 3 lines' } }] },
      },
    });
    expect(await tool.getAttribute('data-status')).toBe('completed');
    expect(await tool.getAttribute('aria-label')).toBe('Tool call: Write src/a.py, completed');
    expect(await tool.locator('details.tool-output').getAttribute('open')).toBeNull();
    await tool.locator('.tool-files button').click();
    expect(await lastPosted('openFile')).toEqual({ type: 'openFile', path: 'src/a.py' });
  });

  it('offers View changes and Revert per checkpoint, shows conflicts and Undo', async () => {
    await ready();
    await host({
      type: 'update',
      params: {
        sessionId: 's1',
        turnId: 't1',
        update: {
          kind: 'checkpoint',
          checkpoint: { checkpointId: 's1:c1', files: [{ path: '/w/a.py', operation: 'modified' }, { path: '/w/b.py', operation: 'created' }] },
        },
      },
    });
    const cp = page.locator('.checkpoint[data-checkpoint-id="s1:c1"]');
    expect(await cp.locator('.checkpoint-title').textContent()).toBe('Checkpoint · 2 files changed');
    await cp.locator('button.view-changes').click();
    expect(await lastPosted('viewChanges')).toEqual({ type: 'viewChanges', checkpointId: 's1:c1' });
    await cp.locator('.checkpoint-files button', { hasText: 'b.py' }).click();
    expect(await lastPosted('viewChanges')).toEqual({ type: 'viewChanges', checkpointId: 's1:c1', path: '/w/b.py' });
    await cp.locator('button.revert').click();
    expect(await lastPosted('revert')).toEqual({ type: 'revert', checkpointId: 's1:c1' });
    await host({ type: 'revertStarted', checkpointId: 's1:c1' });
    expect(await cp.locator('button.revert').isDisabled()).toBe(true);
    await host({
      type: 'revertResult',
      checkpointId: 's1:c1',
      result: {
        applied: true,
        files: [
          { path: '/w/a.py', result: 'restored' },
          { path: '/w/b.py', result: 'conflict', reason: 'changed since the turn' },
        ],
        undoCheckpointId: 's1:u1',
      },
    });
    const result = cp.locator('.revert-result');
    expect(await result.locator('.summary').textContent()).toBe('Reverted.');
    expect(await result.locator('li.result-conflict').textContent()).toContain('conflict');
    expect(await result.locator('li.result-conflict').textContent()).toContain('changed since the turn');
    await result.locator('button.force').click();
    expect(await lastPosted('revert')).toEqual({ type: 'revert', checkpointId: 's1:c1', force: true });
    await result.locator('button.undo').click();
    expect(await lastPosted('undo')).toEqual({ type: 'undo', checkpointId: 's1:c1', undoCheckpointId: 's1:u1' });
    await host({ type: 'revertResult', checkpointId: 's1:c1', undo: true, result: { applied: true, files: [{ path: '/w/a.py', result: 'restored' }] } });
    expect(await cp.locator('.revert-result .summary').textContent()).toBe('Revert undone.');
    expect(await cp.locator('button.undo').count()).toBe(0);
    // An undo point from history (a revert's safety checkpoint) offers Restore.
    await host({ type: 'update', params: { sessionId: 's1', turnId: 't2', update: { kind: 'checkpoint', checkpoint: { checkpointId: 's1:u1', checkpointKind: 'undo', files: [{ path: '/w/a.py', operation: 'modified' }] } } } });
    const undo = page.locator('.checkpoint[data-checkpoint-id="s1:u1"]');
    expect(await undo.locator('.checkpoint-title').textContent()).toBe('Undo point (saved before a revert) · 1 file');
    expect(await undo.locator('button.revert').textContent()).toBe('Restore');
  });

  it('asks permission in the panel with keyboard focus on the choices', async () => {
    await ready();
    await host({
      type: 'permissionRequest',
      requestId: 'p1',
      params: {
        sessionId: 's1',
        toolCall: { toolCallId: 'c1', title: 'Run make test', rawInput: { command: 'make test' } },
        options: [
          { optionId: 'once', name: 'Allow once', kind: 'allow_once' },
          { optionId: 'always', name: 'Always allow', kind: 'allow_always' },
          { optionId: 'deny', name: 'Deny', kind: 'reject_once' },
        ],
      },
    });
    const dialog = page.locator('.permission[data-request-id="p1"]');
    expect(await dialog.getAttribute('role')).toBe('alertdialog');
    expect(await dialog.locator('.permission-detail').textContent()).toBe('make test');
    expect(await dialog.locator('button').allTextContents()).toEqual(['Allow once', 'Always allow', 'Deny']);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Allow once');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    expect(await lastPosted('permission')).toEqual({ type: 'permission', requestId: 'p1', optionId: 'always' });
    await host({ type: 'permissionResolved', requestId: 'p1' });
    expect(await page.locator('.permission').count()).toBe(0);
  });

  it('switches and creates sessions from the header', async () => {
    await ready();
    await page.locator('#session-select').selectOption('s2');
    expect(await lastPosted('switchSession')).toEqual({ type: 'switchSession', sessionId: 's2' });
    await page.locator('#new-session').click();
    expect(await lastPosted('newSession')).toEqual({ type: 'newSession' });
    await host({ type: 'reset', page: { session: session('s2'), items: [{ entryId: 'x', kind: 'user', content: 'other transcript' }], hasMore: false } });
    expect(await page.locator('#session-select').inputValue()).toBe('s2');
    expect(await page.locator('.msg.user .body').textContent()).toBe('other transcript');
  });

  it('shows a start failure with Retry and Show log', async () => {
    hostState = initialState();
    await host({ type: 'connection', status: 'failed', error: 'Agent: the agent-ls server could not start. Fix: set "agentLs.pythonPath".' });
    expect(await page.locator('#banner').textContent()).toContain('agentLs.pythonPath');
    expect(await page.locator('#prompt').isDisabled()).toBe(true);
    await page.locator('#banner button.retry').click();
    expect(await lastPosted('retry')).toEqual({ type: 'retry' });
    await page.locator('#banner button', { hasText: 'Show log' }).click();
    expect(await lastPosted('showLog')).toEqual({ type: 'showLog' });
  });

  it('keeps only the draft in webview state; the transcript comes from the host after a reload', async () => {
    await ready();
    await host({ type: 'update', params: { sessionId: 's1', turnId: 't1', update: { kind: 'agent_message_chunk', content: { type: 'text', text: 'hello' } } } });
    await page.locator('#prompt').fill('unsent draft');
    await page.locator('#prompt').dispatchEvent('input');
    const states = await page.evaluate(() => (window as unknown as { __states: unknown[] }).__states);
    expect(states.every((s) => JSON.stringify(Object.keys(s as object)) === '["draft"]')).toBe(true);
    await page.reload();
    await page.waitForFunction(() => (window as unknown as { __posted: WebviewMessage[] }).__posted.some((m) => m.type === 'ready'));
    expect(await page.locator('#prompt').inputValue()).toBe('unsent draft');
    expect(await page.locator('.msg').count()).toBe(0);
    await page.evaluate((m) => window.postMessage(m, '*'), { type: 'action', action: { type: 'snapshot', state: hostState } } as HostMessage);
    await page.waitForSelector('.msg.assistant');
    expect(await page.locator('.msg.assistant .markdown').textContent()).toBe('hello');
  });

  it('uses the theme’s CSS variables and native, labelled controls', async () => {
    await ready();
    const color = await page.evaluate(() => getComputedStyle(document.body).color);
    expect(color).toBe('rgb(10, 20, 30)');
    const send = await page.evaluate(() => getComputedStyle(document.getElementById('send') as HTMLElement).backgroundColor);
    expect(send).toBe('rgb(0, 90, 158)');
    expect(await page.locator('#prompt').getAttribute('aria-label')).toBe('Prompt');
    expect(await page.locator('#transcript').getAttribute('role')).toBe('log');
    // Tab from the prompt reaches the Send button.
    await page.locator('#prompt').fill('x');
    await page.locator('#prompt').focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('send');
  });
});
