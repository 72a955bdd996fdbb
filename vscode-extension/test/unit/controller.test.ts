/**
 * The controller against a fake language client and the `vscode` stand-in: what it sends to the
 * server, what it shows, and the state it pushes to the panel.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';

import type { HostMessage } from '../../src/messages';
import type { SessionInfo, TranscriptPage } from '../../src/protocol';
import { ui } from './vscodeStub';

type Handler = (params: Record<string, unknown>) => unknown;

const fake = vi.hoisted(() => ({ current: undefined as unknown }));

vi.mock('../../src/client', async () => {
  const { EventEmitter } = await import('./vscodeStub');
  class AgentClient {
    output = { appendLine: (l: string) => this.log.push(l), show: () => undefined };
    log: string[] = [];
    updates = new EventEmitter<unknown>();
    listChanged = new EventEmitter<void>();
    stateChange = new EventEmitter<{ running: boolean; error?: string }>();
    onUpdate = this.updates.event;
    onListChanged = this.listChanged.event;
    onStateChange = this.stateChange.event;
    permissionHandler: ((p: unknown, t: unknown) => Promise<unknown>) | undefined;
    saveAgentEdits = true;
    lastError: string | undefined;
    running = false;
    startOk = true;
    started: Array<{ cmd: unknown; env: Record<string, string | undefined>; init: unknown }> = [];
    requests: Array<{ method: string; params: Record<string, unknown> }> = [];
    notifications: Array<{ method: string; params: unknown }> = [];
    handlers = new Map<string, Handler>();
    progress = new Map<string, (v: unknown) => void>();
    constructor() {
      fake.current = this;
    }
    async start(cmd: unknown, env: Record<string, string | undefined>, init: unknown): Promise<boolean> {
      this.started.push({ cmd, env, init });
      this.running = this.startOk;
      if (!this.startOk) this.lastError = 'Agent: the agent-ls server could not start (python3 -m agent_ls): boom. Fix: set "agentLs.pythonPath".';
      return this.startOk;
    }
    async stop(): Promise<void> {
      this.running = false;
    }
    async request(method: string, params: Record<string, unknown>): Promise<unknown> {
      this.requests.push({ method, params });
      const h = this.handlers.get(method);
      if (!h) throw new Error(`unexpected request ${method}`);
      return h(params);
    }
    async notify(method: string, params: unknown): Promise<void> {
      this.notifications.push({ method, params });
    }
    onProgress(token: string, handler: (v: unknown) => void): { dispose(): void } {
      this.progress.set(token, handler);
      return { dispose: () => this.progress.delete(token) };
    }
    dispose(): void {}
  }
  return { AgentClient };
});

const { AgentController } = await import('../../src/controller');

interface FakeClient {
  handlers: Map<string, Handler>;
  requests: Array<{ method: string; params: Record<string, unknown> }>;
  notifications: Array<{ method: string; params: unknown }>;
  started: Array<{ cmd: { command: string; args: string[] }; env: Record<string, string | undefined>; init: Record<string, unknown> }>;
  progress: Map<string, (v: unknown) => void>;
  updates: { fire(e: unknown): void };
  permissionHandler: (p: unknown, t: unknown) => Promise<unknown>;
  startOk: boolean;
}

const info = (id: string, over: Partial<SessionInfo> = {}): SessionInfo => ({
  sessionId: id,
  workspace: '/w',
  createdAt: '2026-11-22T10:00:00Z',
  modifiedAt: '2026-11-22T10:00:00Z',
  messageCount: 0,
  firstMessage: '',
  ...over,
});
const page = (id: string, items: TranscriptPage['items'] = []): TranscriptPage => ({ session: info(id), items, hasMore: false });
const notFound = Object.assign(new Error('session not found'), { code: -32010, data: { kind: 'session_not_found' } });
const token = { onCancellationRequested: () => ({ dispose: () => undefined }) };

function setup(opts: { lastSession?: string; chatVisible?: boolean } = {}) {
  const posted: HostMessage[] = [];
  const workspaceState = new Map<string, unknown>(opts.lastSession ? [['agentLs.lastSessionId', opts.lastSession]] : []);
  const secrets = new Map<string, string>();
  const chat = {
    visible: opts.chatVisible ?? true,
    post: (m: HostMessage) => posted.push(m),
    postTo: (_t: unknown, m: HostMessage) => posted.push(m),
    reveal: async () => undefined,
    whenReady: async () => true,
  };
  const tree = { set: vi.fn(), setFilter: vi.fn() };
  const context = {
    workspaceState: { get: (k: string) => workspaceState.get(k), update: async (k: string, v: unknown) => void workspaceState.set(k, v) },
    secrets: { get: async (k: string) => secrets.get(k), store: async (k: string, v: string) => void secrets.set(k, v), delete: async (k: string) => void secrets.delete(k) },
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const controller = new AgentController(context as any, chat as any, tree as any);
  const client = fake.current as FakeClient;
  client.handlers.set('agent/session/list', () => ({ sessions: [info('s1'), info('s2')] }));
  return { controller, client, posted, workspaceState, secrets, chat, tree };
}

beforeEach(() => {
  ui.reset();
});

describe('start', () => {
  it('starts the server with the settings and restores this window’s last session', async () => {
    ui.config = { pythonPath: '/venv/bin/python', model: 'qwen3-coder', baseUrl: 'http://127.0.0.1:11434', permissionPolicy: 'readOnly' };
    const { controller, client, workspaceState } = setup({ lastSession: 's2' });
    client.handlers.set('agent/session/switch', (p) => page(String(p.sessionId), [{ entryId: 'e1', kind: 'user', content: 'hi' }]));
    await controller.start();
    const start = client.started[0];
    expect(start.cmd).toEqual({ command: '/venv/bin/python', args: ['-m', 'agent_ls'], source: 'agentLs.pythonPath' });
    expect(start.env.ANTHROPIC_BASE_URL).toBe('http://127.0.0.1:11434');
    expect(start.init).toMatchObject({ client: 'vscode', permissionUi: true, model: 'qwen3-coder', permissionPolicy: { edit: 'deny' } });
    expect(client.requests.map((r) => r.method)).toEqual(['agent/session/switch', 'agent/session/list']);
    expect(controller.state.connection).toBe('ready');
    expect(controller.state.session?.sessionId).toBe('s2');
    expect(controller.state.blocks).toHaveLength(1);
    expect(workspaceState.get('agentLs.lastSessionId')).toBe('s2');
    expect(ui.statusBar.text).toBe('$(comment-discussion) New session');
  });

  it('falls back to the most recent session when the last one is gone', async () => {
    const { controller, client } = setup({ lastSession: 'gone' });
    client.handlers.set('agent/session/switch', () => {
      throw notFound;
    });
    client.handlers.set('agent/session/resumeRecent', () => page('s1'));
    await controller.start();
    expect(controller.state.session?.sessionId).toBe('s1');
  });

  it('passes a stored API key to the server environment only', async () => {
    ui.config = { apiKeySource: 'secretStorage' };
    const { controller, client, secrets } = setup();
    secrets.set('agentLs.anthropicApiKey', 'sk-test');
    client.handlers.set('agent/session/resumeRecent', () => page('s1'));
    await controller.start();
    expect(client.started[0].env.ANTHROPIC_API_KEY).toBe('sk-test');
    expect(JSON.stringify(client.started[0].init)).not.toContain('sk-test');
  });

  it('explains a start failure and offers the fix', async () => {
    const { controller, client, posted } = setup();
    client.startOk = false;
    await controller.start();
    expect(controller.state.connection).toBe('failed');
    expect(controller.state.connectionError).toContain('agentLs.pythonPath');
    expect(ui.messages[0]).toMatchObject({ level: 'error', items: ['Open Settings', 'Show Server Log'] });
    expect(posted.at(-1)).toMatchObject({ type: 'action', action: { type: 'connection', status: 'failed' } });
    expect(ui.statusBar.text).toBe('$(error) Agent: stopped');
  });
});

describe('prompt', () => {
  it('sends the prompt with context and a progress token, and streams into the state', async () => {
    const { controller, client } = setup();
    client.handlers.set('agent/session/resumeRecent', () => page('s1'));
    await controller.start();
    let release: (v: unknown) => void = () => undefined;
    client.handlers.set('agent/session/prompt', () => new Promise((r) => (release = r)));
    const done = controller.prompt('Fix it', [{ uri: 'file:///w/a.py', range: { start: { line: 0, character: 0 }, end: { line: 2, character: 0 } } }], ['a.py:1-3']);
    await vi.waitFor(() => expect(client.requests.some((r) => r.method === 'agent/session/prompt')).toBe(true));
    const sent = client.requests.find((r) => r.method === 'agent/session/prompt')?.params as Record<string, unknown>;
    expect(sent).toMatchObject({ sessionId: 's1', prompt: 'Fix it', context: [{ uri: 'file:///w/a.py' }] });
    expect(typeof sent.workDoneToken).toBe('string');
    expect(controller.state.running).toBe(true);
    client.progress.get(sent.workDoneToken as string)?.({ kind: 'report', message: 'Run `pytest`' });
    expect(ui.statusBar.text).toBe('$(loading~spin) New session: Run `pytest`');
    client.updates.fire({ sessionId: 's1', turnId: 't1', update: { kind: 'agent_message_chunk', content: { type: 'text', text: 'Done' } } });
    expect(controller.state.blocks.map((b) => b.type)).toEqual(['user', 'assistant']);
    // A second prompt while running is refused with a hint.
    await controller.prompt('again');
    expect(ui.messages.at(-1)?.text).toContain('Cancel it first');
    await controller.cancel();
    expect(client.notifications).toEqual([{ method: 'agent/session/cancel', params: { sessionId: 's1' } }]);
    release({ stopReason: 'cancelled', entryId: 'x' });
    await done;
    expect(controller.state.running).toBe(false);
    expect(controller.state.blocks.at(-1)).toMatchObject({ type: 'notice', text: 'Cancelled.' });
    expect(client.progress.size).toBe(0);
  });

  it('shows a provider failure, which ends the turn, with the fix the server names', async () => {
    const { controller, client } = setup();
    client.handlers.set('agent/session/resumeRecent', () => page('s1'));
    await controller.start();
    client.handlers.set('agent/session/prompt', () => ({
      stopReason: 'error',
      error: 'No API key: set ANTHROPIC_API_KEY in the environment the server starts in.',
    }));
    await controller.prompt('hi');
    expect(controller.state.blocks.at(-1)).toMatchObject({ type: 'notice', level: 'error' });
    expect((controller.state.blocks.at(-1) as { text: string }).text).toContain('ANTHROPIC_API_KEY');
  });

  it('names another window when the session is busy', async () => {
    const { controller, client } = setup();
    client.handlers.set('agent/session/resumeRecent', () => page('s1'));
    await controller.start();
    client.handlers.set('agent/session/prompt', () => {
      throw Object.assign(new Error('session s1 is busy'), { code: -32011, data: { kind: 'session_busy', ownerPid: 7 } });
    });
    await controller.prompt('hi');
    expect(controller.state.blocks.at(-1)).toMatchObject({ type: 'notice', level: 'error' });
    expect((controller.state.blocks.at(-1) as { text: string }).text).toContain('fork it');
  });
});

describe('permission', () => {
  const request = {
    sessionId: 's1',
    toolCall: { toolCallId: 'c1', title: 'Run make', toolKind: 'execute' },
    options: [
      { optionId: 'allow_once', name: 'Allow once', kind: 'allow_once' },
      { optionId: 'reject_once', name: 'Reject', kind: 'reject_once' },
    ],
  };

  it('asks in the panel and answers with the chosen option', async () => {
    const { controller, client } = setup();
    client.handlers.set('agent/session/resumeRecent', () => page('s1'));
    await controller.start();
    const answer = client.permissionHandler(request, token);
    await vi.waitFor(() => expect(controller.state.permissions).toHaveLength(1));
    controller.handleWebviewMessage({ type: 'permission', requestId: controller.state.permissions[0].requestId, optionId: 'allow_once' });
    expect(await answer).toEqual({ outcome: { outcome: 'selected', optionId: 'allow_once' } });
    expect(controller.state.permissions).toEqual([]);
  });

  it('falls back to a modal dialog when the panel is not showing', async () => {
    const { controller, client } = setup({ chatVisible: false });
    client.handlers.set('agent/session/resumeRecent', () => page('s1'));
    await controller.start();
    ui.messageAnswers.push('Reject');
    expect(await client.permissionHandler(request, token)).toEqual({ outcome: { outcome: 'selected', optionId: 'reject_once' } });
    ui.messageAnswers.push(undefined);
    expect(await client.permissionHandler(request, token)).toEqual({ outcome: { outcome: 'cancelled' } });
  });

  it('orders the modal safely: reject first (the Enter default), the whole command in the detail', async () => {
    const { controller, client } = setup({ chatVisible: false });
    client.handlers.set('agent/session/resumeRecent', () => page('s1'));
    await controller.start();
    const rm = {
      sessionId: 's1',
      toolCall: { toolCallId: 'c2', title: 'Run `rm -rf build`', toolKind: 'execute', rawInput: { command: 'rm -rf build && make dist' } },
      options: [
        { optionId: 'allow_once', name: 'Allow once', kind: 'allow_once' },
        { optionId: 'allow_always', name: 'Always allow', kind: 'allow_always' },
        { optionId: 'reject_always', name: 'Always reject', kind: 'reject_always' },
        { optionId: 'reject_once', name: 'Reject', kind: 'reject_once' },
      ],
    };
    ui.messageAnswers.push(undefined);
    await client.permissionHandler(rm, token);
    const shown = ui.messages.at(-1);
    expect(shown).toMatchObject({ level: 'warning', text: 'Agent: allow this command?', items: ['Reject', 'Allow once', 'Always allow', 'Always reject'] });
  });

  it('says what an "always" answer remembered', async () => {
    const { controller, client } = setup();
    client.handlers.set('agent/session/resumeRecent', () => page('s1'));
    await controller.start();
    const always = {
      ...request,
      toolCall: { ...request.toolCall, rawInput: { command: 'make test' } },
      options: [...request.options, { optionId: 'allow_always', name: 'Always allow', kind: 'allow_always' }],
    };
    const answer = client.permissionHandler(always, token);
    await vi.waitFor(() => expect(controller.state.permissions).toHaveLength(1));
    controller.handleWebviewMessage({ type: 'permission', requestId: controller.state.permissions[0].requestId, optionId: 'allow_always' });
    await answer;
    expect(controller.state.blocks.at(-1)).toMatchObject({
      type: 'notice',
      text: 'Remembered for this session: always allow `make test`. Agent: Manage Permissions lists and revokes it.',
    });
  });
});

describe('when nothing can be done', () => {
  it('Cancel with nothing running says so', async () => {
    const { controller, client } = setup();
    client.handlers.set('agent/session/resumeRecent', () => page('s1'));
    await controller.start();
    await controller.cancel();
    expect(ui.messages.at(-1)).toMatchObject({ level: 'info', text: 'Agent: nothing is running to cancel.' });
    expect(client.notifications).toEqual([]);
  });

  it('a prompt with the server stopped goes back into the chat box', async () => {
    const { controller, posted } = setup();
    await controller.prompt('Keep this text');
    expect(posted).toContainEqual({ type: 'focusPrompt', text: 'Keep this text' });
    expect(ui.messages.map((m) => m.text)).toContain('Agent: the prompt was not sent (the server is not running); it is back in the chat box.');
    // Its pasted images go back with it.
    const image = { mediaType: 'image/png', data: 'iVBORw0KGgo=' };
    await controller.prompt('With a screenshot', [], [], { images: [image] });
    expect(posted).toContainEqual({ type: 'focusPrompt', text: 'With a screenshot', images: [image] });
  });
});

describe('the panel’s selection chip', () => {
  it('attaches the editor’s selection only when the panel asks for it', async () => {
    const { controller, client, posted } = setup();
    client.handlers.set('agent/session/resumeRecent', () => page('s1'));
    client.handlers.set('agent/session/prompt', () => ({ stopReason: 'end_turn', entryId: 'e' }));
    await controller.start();
    const { Position, Range, Uri, window } = await import('./vscodeStub');
    const selection = new Range(new Position(2, 0), new Position(5, 0));
    window.activeTextEditor = { document: { uri: Uri.file('/w/src/auth.py'), getText: () => 'x' }, selection };
    controller.onWebviewReady();
    expect(posted).toContainEqual({ type: 'editorSelection', label: 'src/auth.py:3-5' });
    controller.handleWebviewMessage({ type: 'prompt', text: 'plain' });
    await vi.waitFor(() => expect(controller.state.running).toBe(false));
    controller.handleWebviewMessage({ type: 'prompt', text: 'with it', attachSelection: true });
    await vi.waitFor(() => expect(client.requests.filter((r) => r.method === 'agent/session/prompt')).toHaveLength(2));
    const [plain, withIt] = client.requests.filter((r) => r.method === 'agent/session/prompt').map((r) => r.params);
    expect(plain.context).toBeUndefined();
    expect(withIt.context).toEqual([{ uri: 'file:///w/src/auth.py', range: { start: { line: 2, character: 0 }, end: { line: 5, character: 0 } } }]);
    window.activeTextEditor = undefined;
  });
});

describe('the panel’s Set API Key button', () => {
  it('stores the key the user enters', async () => {
    const { controller, client, secrets } = setup();
    client.handlers.set('agent/session/resumeRecent', () => page('s1'));
    await controller.start();
    ui.inputAnswers.push(' sk-ant-new ');
    controller.handleWebviewMessage({ type: 'setApiKey' });
    await vi.waitFor(() => expect(secrets.get('agentLs.anthropicApiKey')).toBe('sk-ant-new'));
  });
});

describe('a server crash mid-turn', () => {
  it('says what happened and reloads what the server saved', async () => {
    const { controller, client } = setup();
    client.handlers.set('agent/session/resumeRecent', () => page('s1'));
    client.handlers.set('agent/session/switch', (p) =>
      page(String(p.sessionId), [
        { entryId: 'e1', kind: 'user', content: 'Long task' },
        { entryId: 'e2', kind: 'assistant', content: [{ type: 'text', text: 'Saved part' }] },
      ]),
    );
    await controller.start();
    let fail: (e: unknown) => void = () => undefined;
    client.handlers.set('agent/session/prompt', () => new Promise((_, reject) => (fail = reject)));
    const done = controller.prompt('Long task');
    await vi.waitFor(() => expect(controller.state.running).toBe(true));
    const c = client as unknown as { running: boolean; stateChange: { fire(e: unknown): void } };
    c.running = false;
    c.stateChange.fire({ running: false });
    fail(Object.assign(new Error('Connection got disposed.'), { code: -32097 }));
    await done;
    expect(controller.state.blocks.at(-1)).toMatchObject({ type: 'notice', text: expect.stringContaining('stopped during this turn') });
    // The client restarts the server: the panel shows what was saved, and says so again there.
    c.running = true;
    c.stateChange.fire({ running: true });
    await vi.waitFor(() => expect(controller.state.blocks.map((b) => b.type)).toEqual(['user', 'assistant', 'notice']));
    expect(controller.state.blocks.at(-1)).toMatchObject({ level: 'warning', text: expect.stringContaining('What it had saved is shown above') });
  });
});

describe('checkpoints', () => {
  const withCheckpoint = async () => {
    const s = setup();
    s.client.handlers.set('agent/session/resumeRecent', () =>
      page('s1', [{ entryId: 'c1', kind: 'checkpoint', checkpointId: 's1:c1', files: [{ path: '/w/a.py', operation: 'modified' }] }]),
    );
    await s.controller.start();
    return s;
  };

  it('reverts, reports conflicts from the result, and undoes', async () => {
    const { controller, client } = await withCheckpoint();
    client.handlers.set('agent/checkpoint/restore', (p) => {
      if (p.checkpointId === 's1:c1') {
        return { applied: false, files: [{ path: '/w/a.py', result: 'conflict', reason: 'edited since' }] };
      }
      return { applied: true, files: [{ path: '/w/a.py', result: 'restored' }] };
    });
    await controller.revert('s1:c1');
    const block = controller.state.blocks[0] as { revert?: { status: string; result?: { files: Array<{ result: string }> } } };
    expect(block.revert?.status).toBe('done');
    expect(block.revert?.result?.files[0].result).toBe('conflict');
    expect(client.requests.find((r) => r.method === 'agent/checkpoint/restore')?.params).toEqual({ checkpointId: 's1:c1', scope: 'files', force: false });
    await controller.undoRevert('s1:c1', 's1:u1');
    expect(controller.state.blocks[0]).toMatchObject({ revert: { status: 'done', undo: true } });
  });

  it('reverts the last turn from the command, with Undo offered', async () => {
    const { controller, client } = await withCheckpoint();
    client.handlers.set('agent/checkpoint/list', () => ({
      checkpoints: [
        { checkpointId: 's1:old', entryId: 'old', createdAt: '2026-11-22T09:00:00Z', files: [{ uri: 'file:///w/b.py', operation: 'modified' }] },
        { checkpointId: 's1:c1', entryId: 'c1', createdAt: '2026-11-22T10:00:00Z', kind: 'turn', files: [{ uri: 'file:///w/a.py', operation: 'modified' }] },
        { checkpointId: 's1:u9', entryId: 'u9', createdAt: '2026-11-22T11:00:00Z', kind: 'undo', files: [{ uri: 'file:///w/a.py', operation: 'modified' }] },
      ],
    }));
    client.handlers.set('agent/checkpoint/restore', () => ({ applied: true, files: [{ path: '/w/a.py', result: 'restored' }], undoCheckpointId: 's1:u10' }));
    await controller.revertLastTurn();
    expect(client.requests.filter((r) => r.method === 'agent/checkpoint/restore').map((r) => r.params.checkpointId)).toEqual(['s1:c1']);
    expect(ui.messages.at(-1)).toMatchObject({ level: 'info', text: "Agent: reverted the turn's files (1 restored).", items: ['Undo'] });
  });

  it('opens one file’s diff in VS Code’s diff editor', async () => {
    const { controller, client } = await withCheckpoint();
    client.handlers.set('agent/checkpoint/diff', () => ({
      files: [{ uri: 'file:///w/a.py', path: '/w/a.py', operation: 'modified', before: 'old\n', after: 'new\n' }],
    }));
    await controller.viewChanges('s1:c1', '/w/a.py');
    const diff = ui.commands.find((c) => c.id === 'vscode.diff');
    expect(diff?.args[2]).toBe('a.py (modified, agent turn)');
    const left = diff?.args[0] as { scheme: string; query: string };
    expect(left.scheme).toBe('agent-ls-checkpoint');
    expect(await controller.docs.provideTextDocumentContent(left as never)).toBe('old\n');
    expect(await controller.docs.provideTextDocumentContent(diff?.args[1] as never)).toBe('new\n');
  });
});

describe('permissions', () => {
  it('lists the remembered rules and revokes the picked ones', async () => {
    const s = setup();
    s.client.handlers.set('agent/session/resumeRecent', () => page('s1'));
    await s.controller.start();
    const rules = [
      { ruleId: 'aaaaaaaaaaaaaaaa', toolKind: 'execute', decision: 'allow', description: 'allow the command: make test', command: 'make test' },
      { ruleId: 'bbbbbbbbbbbbbbbb', toolKind: 'delete', decision: 'deny', description: 'reject every delete tool call' },
    ];
    s.client.handlers.set('agent/permissions/list', () => ({ rules }));
    s.client.handlers.set('agent/permissions/revoke', () => ({ revoked: true }));
    let shown: Array<{ label: string; description: string }> = [];
    ui.quickPickAnswers.push((items) => {
      shown = items as typeof shown;
      return [items[0]];
    });
    await s.controller.managePermissions();
    expect(shown.map((i) => [i.label, i.description])).toEqual([
      ['Always allow', 'make test'],
      ['Always reject', 'every delete call'],
    ]);
    expect(s.client.requests.filter((r) => r.method === 'agent/permissions/revoke').map((r) => r.params)).toEqual([
      { sessionId: 's1', ruleId: 'aaaaaaaaaaaaaaaa' },
    ]);
  });
});

describe('sessions', () => {
  it('deletes only after confirmation, then resumes another session', async () => {
    const { controller, client } = setup();
    client.handlers.set('agent/session/resumeRecent', () => page('s1'));
    client.handlers.set('agent/session/delete', () => ({}));
    await controller.start();
    ui.messageAnswers.push(undefined);
    await controller.deleteSession('s1');
    expect(client.requests.some((r) => r.method === 'agent/session/delete')).toBe(false);
    ui.messageAnswers.push('Delete');
    await controller.deleteSession('s1');
    expect(client.requests.filter((r) => r.method === 'agent/session/delete')).toEqual([{ method: 'agent/session/delete', params: { sessionId: 's1' } }]);
    expect(client.requests.filter((r) => r.method === 'agent/session/resumeRecent')).toHaveLength(2);
  });

  it('renames and forks', async () => {
    const { controller, client } = setup();
    client.handlers.set('agent/session/resumeRecent', () => page('s1'));
    client.handlers.set('agent/session/rename', (p) => info(String(p.sessionId), { name: String(p.name) }));
    client.handlers.set('agent/session/fork', () => info('s3', { parentSessionId: 's1', name: 'Login bug' }));
    client.handlers.set('agent/session/switch', (p) => page(String(p.sessionId)));
    await controller.start();
    ui.inputAnswers.push('  Login bug ');
    await controller.renameSession();
    expect(controller.state.session?.name).toBe('Login bug');
    await controller.forkSession('s1');
    expect(controller.state.session?.sessionId).toBe('s3');
    // The server kept the parent's name: the fork is renamed after its origin.
    expect(client.requests.filter((r) => r.method === 'agent/session/rename').at(-1)?.params).toEqual({ sessionId: 's3', name: 'Fork of Login bug' });
  });
});

describe('code blocks in the panel', () => {
  it('copies to the clipboard and inserts at the cursor of the active editor', async () => {
    const { controller } = setup();
    controller.handleWebviewMessage({ type: 'copyCode', code: 'print(1)' });
    await vi.waitFor(() => expect(ui.clipboard).toBe('print(1)'));
    const inserted: string[] = [];
    const editor = {
      document: { uri: { path: '/w/a.py' } },
      selections: [{}],
      edit: async (build: (e: { replace(r: unknown, s: string): void }) => void) => {
        build({ replace: (_r, s) => inserted.push(s) });
        return true;
      },
    };
    const { window } = await import('./vscodeStub');
    window.activeTextEditor = editor;
    controller.handleWebviewMessage({ type: 'insertCode', code: 'x = 1' });
    await vi.waitFor(() => expect(inserted).toEqual(['x = 1']));
    window.activeTextEditor = undefined;
  });
});

describe('sessions beyond the newest page', () => {
  const many = Array.from({ length: 200 }, (_, i) =>
    info(`s${String(i).padStart(3, '0')}`, {
      modifiedAt: new Date(Date.UTC(2026, 10, 20, 0, i)).toISOString(),
      firstMessage: i === 3 ? 'the oldest needle' : `message ${i}`,
    }),
  );
  const serve = (p: Record<string, unknown>) => {
    const matching = [...many].reverse().filter((s) => !p.query || s.firstMessage.includes(String(p.query)));
    const start = p.cursor ? Number(p.cursor) : 0;
    const limit = Number(p.limit);
    const end = start + limit;
    return { sessions: matching.slice(start, end), ...(end < matching.length ? { nextCursor: String(end) } : {}) };
  };

  it('pages the tree, keeps the active session listed and loads more on request', async () => {
    const { controller, client, tree } = setup({ lastSession: 's001' });
    client.handlers.set('agent/session/list', serve);
    client.handlers.set('agent/session/switch', (p) => ({ ...page(String(p.sessionId)), session: many[1] }));
    await controller.start();
    const [sessions, active, , hasMore] = tree.set.mock.calls.at(-1) as [SessionInfo[], string, unknown, boolean];
    expect(active).toBe('s001');
    expect(sessions).toHaveLength(101);
    expect(sessions[0].sessionId).toBe('s001');
    expect(hasMore).toBe(true);
    expect(controller.state.sessions.some((s) => s.sessionId === 's001')).toBe(true);
    await controller.loadMoreSessions();
    const [all, , , more] = tree.set.mock.calls.at(-1) as [SessionInfo[], string, unknown, boolean];
    expect(all).toHaveLength(200);
    expect(more).toBe(false);
    expect(client.requests.filter((r) => r.method === 'agent/session/list').map((r) => r.params)).toEqual([{ limit: 100 }, { limit: 100, cursor: '100' }]);
  });

  it('Switch Session searches all sessions as the user types and pages on "Load more"', async () => {
    const { controller, client } = setup();
    client.handlers.set('agent/session/list', serve);
    client.handlers.set('agent/session/resumeRecent', () => ({ ...page('s199'), session: many[199] }));
    client.handlers.set('agent/session/switch', (p) => ({ ...page(String(p.sessionId)), session: many[3] }));
    await controller.start();
    const switched = controller.switchSessionCommand();
    await vi.waitFor(() => expect(ui.quickPicks[0]?.items.length).toBeGreaterThan(1));
    const qp = ui.quickPicks[0] as unknown as {
      items: Array<{ label: string; sessionId?: string; more?: boolean; alwaysShow?: boolean }>;
      type(v: string): void;
      accept(i: unknown): void;
      busy: boolean;
    };
    expect(qp.items).toHaveLength(1 + 50 + 1);
    expect(qp.items.at(-1)?.more).toBe(true);
    qp.accept(qp.items.at(-1));
    await vi.waitFor(() => expect(qp.items).toHaveLength(1 + 100 + 1));
    qp.type('oldest');
    await vi.waitFor(() => expect(qp.items).toHaveLength(2));
    expect(qp.items[1]).toMatchObject({ sessionId: 's003', alwaysShow: true });
    qp.accept(qp.items[1]);
    await switched;
    expect(controller.state.session?.sessionId).toBe('s003');
    expect(client.requests.filter((r) => r.method === 'agent/session/list').map((r) => r.params)).toContainEqual({ limit: 50, query: 'oldest' });
    expect(ui.quickPicks[0].disposed).toBe(true);
  });
});

describe('the prompt box: @ mentions, attachments, model and thinking', () => {
  it('finds files for an @ mention, leaving out what .gitignore ignores, best match first', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { execFileSync } = await import('node:child_process');
    const root = mkdtempSync(join(tmpdir(), 'agent-ls-mentions-'));
    execFileSync('git', ['init', '-q', root]);
    writeFileSync(join(root, '.gitignore'), 'build/\n*.log\n');
    mkdirSync(join(root, 'src'));
    mkdirSync(join(root, 'build'));
    for (const f of ['src/auth.py', 'src/oauth_helpers.py', 'build/auth.py', 'auth.log']) writeFileSync(join(root, f), '');
    ui.workspaceFolder = root;
    ui.files = ['src/oauth_helpers.py', 'build/auth.py', 'auth.log', 'src/auth.py'].map((f) => join(root, f));
    ui.sections = { files: { exclude: { '**/.git': true } }, search: { exclude: { '**/node_modules': true, '**/off': false } } };
    const { controller, posted } = setup();
    controller.handleWebviewMessage({ type: 'mentionQuery', id: 7, query: 'auth' });
    await vi.waitFor(() => expect(posted.some((m) => m.type === 'mentionResults')).toBe(true));
    expect(posted.find((m) => m.type === 'mentionResults')).toEqual({
      type: 'mentionResults',
      id: 7,
      files: [
        { label: 'src/auth.py', uri: `file://${root}/src/auth.py` },
        { label: 'src/oauth_helpers.py', uri: `file://${root}/src/oauth_helpers.py` },
      ],
    });
    expect(ui.findFilesCalls).toEqual([{ include: '{**/*auth*,**/*auth*/**}', exclude: '{**/.git,**/node_modules}' }]);
  });

  it('sends attached files and selections as the prompt’s context, with their chips', async () => {
    const { controller, client } = setup();
    client.handlers.set('agent/session/resumeRecent', () => page('s1'));
    let sent: Record<string, unknown> | undefined;
    client.handlers.set('agent/session/prompt', (p) => {
      sent = p;
      return { stopReason: 'end_turn' };
    });
    await controller.start();
    const range = { start: { line: 2, character: 0 }, end: { line: 4, character: 3 } };
    controller.handleWebviewMessage({
      type: 'prompt',
      text: 'Compare @src/a.py with this',
      attachments: [
        { label: 'src/a.py', uri: 'file:///w/src/a.py' },
        { label: 'b.py:3-5', uri: 'file:///w/b.py', range },
      ],
    });
    await vi.waitFor(() => expect(sent).toBeDefined());
    expect(sent?.context).toEqual([{ uri: 'file:///w/src/a.py' }, { uri: 'file:///w/b.py', range }]);
    expect(controller.state.blocks.find((b) => b.type === 'user')).toMatchObject({ context: ['src/a.py', 'b.py:3-5'] });
  });

  it('sends pasted images as image blocks after the text, with the attachments as context', async () => {
    const { controller, client } = setup();
    client.handlers.set('agent/session/resumeRecent', () => page('s1'));
    let sent: Record<string, unknown> | undefined;
    client.handlers.set('agent/session/prompt', (p) => {
      sent = p;
      return { stopReason: 'end_turn' };
    });
    await controller.start();
    const png = { mediaType: 'image/png', data: 'iVBORw0KGgo=' };
    controller.handleWebviewMessage({
      type: 'prompt',
      text: 'Why is this red?',
      attachments: [{ label: 'src/a.py', uri: 'file:///w/src/a.py' }],
      images: [png, { mediaType: 'image/webp', data: 'UklGRg==', name: 'shot.webp' }],
    });
    await vi.waitFor(() => expect(sent).toBeDefined());
    expect(sent?.prompt).toEqual([
      { type: 'text', text: 'Why is this red?' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'base64', media_type: 'image/webp', data: 'UklGRg==' } },
    ]);
    expect(sent?.context).toEqual([{ uri: 'file:///w/src/a.py' }]);
    // The user's message shows them while the turn runs.
    expect(controller.state.blocks.find((b) => b.type === 'user')).toMatchObject({
      text: 'Why is this red?',
      context: ['src/a.py'],
      images: [png, { mediaType: 'image/webp', data: 'UklGRg==', name: 'shot.webp' }],
    });
  });

  it('Add Selection to Chat puts the selection in the prompt box as a chip', async () => {
    const { controller, posted } = setup();
    const { window, Position, Range, Uri } = await import('./vscodeStub');
    const selection = new Range(new Position(2, 0), new Position(5, 0));
    window.activeTextEditor = { document: { uri: Uri.file('/w/src/auth.py') }, selection };
    await controller.addSelectionToChat();
    window.activeTextEditor = undefined;
    expect(posted.filter((m) => m.type === 'attach')).toEqual([
      {
        type: 'attach',
        attachment: { label: 'src/auth.py:3-5', uri: 'file:///w/src/auth.py', range: { start: { line: 2, character: 0 }, end: { line: 5, character: 0 } } },
      },
    ]);
  });

  it('the model picker and thinking toggle change the settings the server restarts with', async () => {
    const { controller, client, posted } = setup();
    client.handlers.set('agent/session/resumeRecent', () => page('s1'));
    ui.config = { model: '', models: ['qwen3-coder'] };
    await controller.start();
    controller.onWebviewReady();
    expect(posted.find((m) => m.type === 'config')).toEqual({
      type: 'config',
      config: { model: '', models: ['qwen3-coder', 'claude-sonnet-4-6', 'claude-opus-4-5', 'claude-sonnet-4-5', 'claude-haiku-4-5'], defaultModel: 'claude-sonnet-4-6', thinking: false },
    });
    await controller.setModel('claude-opus-4-5');
    await controller.setThinking(true);
    expect(ui.config).toMatchObject({ model: 'claude-opus-4-5', thinkingBudget: 4096 });
    ui.inputAnswers.push(' my-local-model ');
    await controller.setModel('agent-ls:other-model');
    expect(ui.config.model).toBe('my-local-model');
    // The server reads them when it starts: a restart passes them in initializationOptions.
    await controller.restart();
    expect(client.started.at(-1)?.init).toMatchObject({ model: 'my-local-model', thinkingBudget: 4096 });
    await controller.setThinking(false);
    await controller.restart();
    expect(client.started.at(-1)?.init).not.toHaveProperty('thinkingBudget');
  });
});

describe('renaming', () => {
  it('does not move the session in the lists, though the server bumps its modifiedAt', async () => {
    const { controller, client } = setup();
    let sessions = [info('s1', { modifiedAt: '2026-11-23T00:00:00Z' }), info('s2', { modifiedAt: '2026-11-22T00:00:00Z' })];
    client.handlers.set('agent/session/list', () => ({ sessions }));
    client.handlers.set('agent/session/resumeRecent', () => page('s1'));
    client.handlers.set('agent/session/rename', (p) => {
      const renamed = info(String(p.sessionId), { name: String(p.name), modifiedAt: '2026-11-30T00:00:00Z' });
      sessions = [renamed, ...sessions.filter((s) => s.sessionId !== p.sessionId)];
      return renamed;
    });
    await controller.start();
    ui.inputAnswers.push('Older one');
    await controller.renameSession('s2');
    expect(controller.state.sessions.map((s) => [s.sessionId, s.name])).toEqual([
      ['s1', undefined],
      ['s2', 'Older one'],
    ]);
  });
});

describe('turn controls', () => {
  const items: TranscriptPage['items'] = [
    { entryId: 'u1', kind: 'user', content: 'first' },
    { entryId: 'a1', kind: 'assistant', content: [{ type: 'text', text: 'One.' }] },
    { entryId: 'u2', kind: 'user', content: 'second: make the change' },
    { entryId: 'a2', kind: 'assistant', content: [{ type: 'text', text: 'Done.' }] },
  ];
  const conflict = { applied: false, files: [{ path: 'a.py', result: 'conflict', reason: 'changed since' }, { path: 'b.py', result: 'restored' }] };

  async function started() {
    const s = setup();
    s.client.handlers.set('agent/session/resumeRecent', () => ({ session: info('s1'), items, hasMore: false }));
    s.client.handlers.set('agent/session/switch', () => ({ session: info('s1'), items: items.slice(0, 2), hasMore: false }));
    await s.controller.start();
    return s;
  }

  it('rewinds: a conflict shows the plan and writes nothing until the user picks; partial, then undo', async () => {
    const { controller, client } = await started();
    const answers = [conflict, { applied: true, files: [{ path: 'a.py', result: 'skipped' }, { path: 'b.py', result: 'restored' }], undoCheckpointId: 'undo1', leafEntryId: 'a1' }];
    client.handlers.set('agent/session/rewind', () => answers.shift());
    await controller.rewind('u2', 'both');
    expect(controller.state.rewind).toMatchObject({ status: 'plan', entryId: 'u2', label: 'second: make the change', result: conflict });
    // The transcript did not move: nothing was applied.
    expect(controller.state.blocks).toHaveLength(4);
    controller.handleWebviewMessage({ type: 'rewind', entryId: 'u2', scope: 'both', mode: 'partial' });
    await vi.waitFor(() => expect(controller.state.rewind?.status).toBe('done'));
    expect(client.requests.filter((r) => r.method === 'agent/session/rewind').map((r) => r.params)).toEqual([
      { sessionId: 's1', entryId: 'u2', scope: 'both' },
      { sessionId: 's1', entryId: 'u2', scope: 'both', partial: true },
    ]);
    // The conversation moved: the page is reloaded from the server.
    expect(controller.state.blocks).toHaveLength(2);
    client.handlers.set('agent/checkpoint/restore', () => ({ applied: true, files: [{ path: 'b.py', result: 'restored' }] }));
    client.handlers.set('agent/session/switch', () => ({ session: info('s1'), items, hasMore: false }));
    await controller.undoRewind();
    expect(client.requests.filter((r) => r.method === 'agent/checkpoint/restore').map((r) => r.params)).toEqual([{ checkpointId: 'undo1', scope: 'both' }]);
    expect(controller.state.rewind?.status).toBe('undone');
    expect(controller.state.blocks).toHaveLength(4);
  });

  it('Cancel on a plan changes nothing', async () => {
    const { controller, client } = await started();
    client.handlers.set('agent/session/rewind', () => conflict);
    await controller.rewind('u2', 'files');
    controller.handleWebviewMessage({ type: 'rewindDismiss' });
    expect(controller.state.rewind).toBeUndefined();
    expect(client.requests.filter((r) => r.method === 'agent/session/rewind')).toHaveLength(1);
  });

  it('edit and resend replaces the message; with files, the rewind goes first', async () => {
    const { controller, client } = await started();
    const prompts: Array<Record<string, unknown>> = [];
    client.handlers.set('agent/session/prompt', (p) => {
      prompts.push(p);
      return { stopReason: 'end_turn', entryId: 'a3' };
    });
    controller.handleWebviewMessage({ type: 'prompt', text: 'second, better', replaceEntryId: 'u2' });
    await vi.waitFor(() => expect(prompts).toHaveLength(1));
    expect(prompts[0]).toMatchObject({ sessionId: 's1', prompt: 'second, better', replaceEntryId: 'u2' });
    // With files: the rewind's plan holds the edit until the user answers it.
    client.handlers.set('agent/session/switch', () => ({ session: info('s1'), items, hasMore: false }));
    await controller.restart();
    const answers = [conflict, { applied: true, files: [{ path: 'a.py', result: 'restored' }], undoCheckpointId: 'u' }];
    client.handlers.set('agent/session/rewind', () => answers.shift());
    await controller.editAndResend('u2', 'again', [], [], true);
    expect(prompts).toHaveLength(1);
    expect(controller.state.rewind?.status).toBe('plan');
    await controller.rewind('u2', 'files', 'force');
    await vi.waitFor(() => expect(prompts).toHaveLength(2));
    expect(client.requests.filter((r) => r.method === 'agent/session/rewind').at(-1)?.params).toEqual({ sessionId: 's1', entryId: 'u2', scope: 'files', force: true });
    expect(prompts[1]).toMatchObject({ prompt: 'again', replaceEntryId: 'u2' });
  });

  it('retries a failed turn through agent/session/retry, then shows the conversation as it stands', async () => {
    const { controller, client } = await started();
    client.handlers.set('agent/session/retry', () => ({ stopReason: 'end_turn', entryId: 'a9' }));
    controller.handleWebviewMessage({ type: 'retryTurn' });
    await vi.waitFor(() => expect(client.requests.some((r) => r.method === 'agent/session/retry')).toBe(true));
    expect(client.requests.find((r) => r.method === 'agent/session/retry')?.params).toMatchObject({ sessionId: 's1' });
    expect(client.requests.find((r) => r.method === 'agent/session/retry')?.params).not.toHaveProperty('prompt');
    await vi.waitFor(() => expect(client.requests.at(-2)?.method).toBe('agent/session/switch'));
  });

  it('reviews an edit in the diff editor and answers it from there', async () => {
    const { controller, client } = await started();
    const answer = client.permissionHandler(
      {
        sessionId: 's1',
        toolCall: { toolCallId: 't1', title: 'Edit a.py', content: [{ type: 'diff', path: '/w/a.py', oldText: 'a\n', newText: 'b\n' }] },
        options: [
          { optionId: 'ok', name: 'Allow once', kind: 'allow_once' },
          { optionId: 'no', name: 'Reject', kind: 'reject_once' },
        ],
      },
      token,
    );
    await vi.waitFor(() => expect(ui.commands.some((c) => c.id === 'vscode.diff')).toBe(true));
    const diff = ui.commands.find((c) => c.id === 'vscode.diff');
    const [before, after] = diff?.args as Array<{ scheme: string; path: string }>;
    expect(before.scheme).toBe('agent-review');
    expect(controller.review.provideTextDocumentContent(before as never)).toBe('a\n');
    expect(controller.review.provideTextDocumentContent(after as never)).toBe('b\n');
    controller.answerReview(false, after as never);
    expect(await answer).toEqual({ outcome: { outcome: 'selected', optionId: 'no' } });
    expect(controller.state.permissions).toEqual([]);
  });
});

describe('finding and carrying sessions', () => {
  it('opens a search hit’s session at its entry', async () => {
    const { controller, client, posted } = setup();
    client.handlers.set('agent/session/resumeRecent', () => page('s1'));
    client.handlers.set('agent/session/search', (p) => ({
      hits: p.query === 'oauth' ? [{ sessionId: 's2', sessionName: 'Login', workspace: '/w', entryId: 'e7', role: 'assistant', snippet: 'use oauth here', highlights: [[4, 9]], ts: '2026-11-22T10:00:00Z' }] : [],
    }));
    client.handlers.set('agent/session/switch', (p) => ({ ...page(String(p.sessionId)), focusEntryId: p.focusEntryId }));
    await controller.start();
    const done = controller.searchSessions();
    await vi.waitFor(() => expect(ui.quickPicks).toHaveLength(1));
    const qp = ui.quickPicks.at(-1) as unknown as { type(v: string): void; items: Array<{ label: string; detail?: string }>; accept(i: unknown): void };
    qp.type('oauth');
    await vi.waitFor(() => expect(qp.items.some((i) => i.detail === 'use «oauth» here')).toBe(true));
    qp.accept(qp.items.find((i) => i.detail));
    await done;
    expect(client.requests.find((r) => r.method === 'agent/session/switch' && r.params.sessionId === 's2')?.params).toEqual({ sessionId: 's2', focusEntryId: 'e7' });
    expect(posted.some((m) => m.type === 'action' && m.action.type === 'reset' && m.action.focusEntryId === 'e7')).toBe(true);
  });

  it('tags a session and filters the list by tag', async () => {
    const { controller, client, tree } = setup();
    client.handlers.set('agent/session/resumeRecent', () => page('s1'));
    client.handlers.set('agent/session/setMetadata', (p) => info(String(p.sessionId), { tags: p.tags as string[] }));
    client.handlers.set('agent/session/list', () => ({ sessions: [info('s1', { tags: ['bug', 'auth'] }), info('s2')] }));
    await controller.start();
    ui.inputAnswers.push('#bug, auth bug');
    await controller.tagSession('s1');
    expect(client.requests.find((r) => r.method === 'agent/session/setMetadata')?.params).toEqual({ sessionId: 's1', tags: ['bug', 'auth'] });
    ui.quickPickAnswers.push((items) => (items as Array<{ tag?: string }>).filter((i) => i.tag === 'bug'));
    await controller.filterByTag();
    expect(client.requests.filter((r) => r.method === 'agent/session/list').at(-1)?.params).toMatchObject({ tags: ['bug'] });
    expect(tree.setFilter).toHaveBeenCalledWith(['bug']);
  });

  it('exports to the chosen file, imports a bundle, and restores from the trash', async () => {
    const { controller, client } = setup();
    client.handlers.set('agent/session/resumeRecent', () => page('s1'));
    client.handlers.set('agent/session/export', (p) => ({ path: p.path, bytes: 1234 }));
    client.handlers.set('agent/session/import', () => ({ imported: [info('s9')], skipped: 1, problems: ['line 3 skipped: torn'] }));
    client.handlers.set('agent/session/trash', () => ({ sessions: [{ ...info('s7', { name: 'Old' }), deletedAt: '2026-11-29T00:00:00Z' }] }));
    client.handlers.set('agent/session/undelete', (p) => info(String(p.sessionId)));
    const { window, Uri } = await import('./vscodeStub');
    Object.assign(window, {
      showSaveDialog: async () => Uri.file('/w/login.html'),
      showOpenDialog: async () => [Uri.file('/tmp/s.tar')],
    });
    await controller.start();
    ui.quickPickAnswers.push((items) => (items as Array<{ label: string }>).find((i) => i.label === 'HTML'));
    await controller.exportSession('s1');
    expect(client.requests.find((r) => r.method === 'agent/session/export')?.params).toEqual({ sessionId: 's1', format: 'html', path: '/w/login.html' });
    expect(ui.messages.at(-1)?.text).toContain('/w/login.html (1,234 bytes)');
    ui.quickPickAnswers.push((items) => (items as Array<{ label: string }>)[0]);
    await controller.importSessions();
    expect(client.requests.find((r) => r.method === 'agent/session/import')?.params).toEqual({ path: '/tmp/s.tar', workspace: '/w' });
    expect(ui.messages.at(-1)?.text).toBe('Agent: imported 1 session, 1 already imported, 1 problem (Agent: Show Server Log).');
    ui.quickPickAnswers.push((items) => items);
    await controller.restoreFromTrash();
    expect(client.requests.find((r) => r.method === 'agent/session/undelete')?.params).toEqual({ sessionId: 's7' });
  });
});
