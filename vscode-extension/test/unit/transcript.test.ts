import { describe, expect, it } from 'vitest';

import type { SessionInfo, SessionUpdate, TranscriptItem } from '../../src/protocol';
import {
  type AssistantBlock,
  type ChatAction,
  type ChatState,
  type CheckpointBlock,
  type ToolBlock,
  type UserBlock,
  contentText,
  initialState,
  oldestEntryId,
  reduce,
  sessionLabel,
} from '../../src/transcript';

const session = (over: Partial<SessionInfo> = {}): SessionInfo => ({
  sessionId: 's1',
  workspace: '/w',
  createdAt: '2026-11-22T10:00:00Z',
  modifiedAt: '2026-11-22T10:00:00Z',
  messageCount: 0,
  firstMessage: '',
  ...over,
});

const run = (state: ChatState, ...actions: ChatAction[]): ChatState => actions.reduce(reduce, state);
const reset = (items: TranscriptItem[] = [], over: Partial<SessionInfo> = {}): ChatAction => ({
  type: 'reset',
  page: { session: session(over), items, hasMore: false },
});
const upd = (update: SessionUpdate, turnId = 't1', sessionId = 's1'): ChatAction => ({
  type: 'update',
  params: { sessionId, turnId, update },
});

describe('images in user messages', () => {
  const png = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } };

  it('a reloaded user item keeps its images, also one sent without text', () => {
    const s = run(initialState(), reset([
      { entryId: 'e1', kind: 'user', content: [{ type: 'text', text: 'Look' }, png, { type: 'text', text: 'Attached file: a.py:\n```\nx\n```' }] },
      { entryId: 'e2', kind: 'user', content: [png] },
    ]));
    expect(s.blocks).toMatchObject([
      { type: 'user', text: 'Look', context: ['a.py'], images: [{ mediaType: 'image/png', data: 'iVBORw0KGgo=' }] },
      { type: 'user', text: '', context: [], images: [{ mediaType: 'image/png', data: 'iVBORw0KGgo=' }] },
    ]);
  });

  it('the live message keeps the images it was sent with; one from another client takes the echoed ones', () => {
    const image = { mediaType: 'image/png', data: 'iVBORw0KGgo=' };
    let s = run(initialState(), reset(), { type: 'promptStarted', text: 'Look', images: [image] });
    expect(s.blocks[0]).toMatchObject({ pending: true, images: [image] });
    s = run(s, upd({ sessionUpdate: 'user_message', content: [{ type: 'text', text: 'Look' }, png], entryId: 'u1' }));
    expect(s.blocks[0]).toMatchObject({ pending: false, entryId: 'u1', images: [image] });
    s = run(s, upd({ sessionUpdate: 'user_message', content: [png], entryId: 'u2' }, 't2'));
    expect(s.blocks[1]).toMatchObject({ type: 'user', entryId: 'u2', images: [image] });
  });
});

describe('reset from a transcript page', () => {
  const items: TranscriptItem[] = [
    { entryId: 'e1', kind: 'user', content: [{ type: 'text', text: 'Fix it' }, { type: 'resource_link', uri: 'file:///w/a.py' }] },
    {
      entryId: 'e2',
      kind: 'assistant',
      content: [
        { type: 'thinking', thinking: 'hmm' },
        { type: 'text', text: 'Writing ' },
        { type: 'text', text: 'the file.' },
        { type: 'tool_use', id: 'tu1', name: 'write_file', input: { path: 'a.py', content: 'x' } },
        { type: 'tool_use', id: 'tu2', name: 'run_command', input: { command: 'pytest -q' } },
      ],
      toolCalls: [
        { toolCallId: 'tu1', title: 'Write a.py', toolKind: 'edit', locations: [{ path: '/w/a.py' }] },
        { toolCallId: 'tu2', title: 'Run `pytest -q`', toolKind: 'execute', locations: [] },
      ],
    },
    {
      entryId: 'e3',
      kind: 'tool',
      content: [
        { type: 'tool_result', tool_use_id: 'tu1', content: 'ok' },
        { type: 'tool_result', tool_use_id: 'tu2', content: [{ type: 'text', text: '1 failed' }], is_error: true },
      ],
    },
    { entryId: 'e4', kind: 'assistant', content: [{ type: 'text', text: 'Done.' }] },
    {
      entryId: 'e5',
      kind: 'checkpoint',
      checkpointId: 's1:e5',
      turnId: 'turn1',
      checkpointKind: 'turn',
      files: [{ path: '/w/a.py', operation: 'modified' }],
    },
    { entryId: 'e6', kind: 'compaction', summary: 'earlier' },
  ];

  it('turns items into user, assistant, tool, checkpoint and notice blocks', () => {
    const state = run(initialState(), reset(items, { name: 'Fixing' }));
    expect(state.session?.name).toBe('Fixing');
    expect(state.blocks.map((b) => b.type)).toEqual(['user', 'assistant', 'tool', 'tool', 'assistant', 'checkpoint', 'notice']);
    const user = state.blocks[0] as UserBlock;
    expect(user.text).toBe('Fix it');
    expect(user.context).toEqual(['file:///w/a.py']);
    const first = state.blocks[1] as AssistantBlock;
    expect(first.text).toBe('Writing the file.');
    expect(first.thought).toBe('hmm');
    const [write, cmd] = state.blocks.slice(2, 4) as ToolBlock[];
    expect(write).toMatchObject({ title: 'Write a.py', status: 'completed', output: 'ok', toolKind: 'edit', locations: [{ path: '/w/a.py' }] });
    expect(cmd).toMatchObject({ title: 'Run `pytest -q`', status: 'failed', output: '1 failed', toolKind: 'execute' });
    const cp = state.blocks[5] as CheckpointBlock;
    expect(cp).toMatchObject({ checkpointId: 's1:e5', checkpointKind: 'turn', files: [{ path: '/w/a.py', operation: 'modified' }] });
    expect(new Set(state.blocks.map((b) => b.key)).size).toBe(state.blocks.length);
    expect(oldestEntryId(state.blocks)).toBe('e1');
  });

  it('is not running after a reset unless told so', () => {
    let state = run(initialState(), reset(), { type: 'promptStarted', text: 'hi' });
    expect(state.running).toBe(true);
    state = run(state, reset([], { sessionId: 's2' }));
    expect(state.running).toBe(false);
    expect(state.blocks).toEqual([]);
    state = run(state, { type: 'reset', page: { session: session(), items: [], hasMore: true }, running: true });
    expect(state.running).toBe(true);
    expect(state.hasMore).toBe(true);
  });

  it('prepends an earlier page', () => {
    let state = run(initialState(), reset([{ entryId: 'e9', kind: 'user', content: 'later' }]));
    state = run(state, { type: 'prepend', sessionId: 's1', items: [{ entryId: 'e1', kind: 'user', content: 'earlier' }], hasMore: false });
    expect(state.blocks.map((b) => (b as UserBlock).text)).toEqual(['earlier', 'later']);
    const other = run(state, { type: 'prepend', sessionId: 'zz', items: [{ entryId: 'x', kind: 'user', content: 'no' }], hasMore: true });
    expect(other).toBe(state);
  });
});

describe('streaming updates', () => {
  const started = (): ChatState => run(initialState(), reset(), { type: 'promptStarted', text: 'Add a test', context: ['a.py:1-3'] });

  it('replaces the pending prompt with the server’s user_message', () => {
    const state = run(started(), upd({ kind: 'user_message', entryId: 'u1', content: [{ type: 'text', text: 'Add a test' }] }));
    expect(state.blocks).toHaveLength(1);
    expect(state.blocks[0]).toMatchObject({ type: 'user', text: 'Add a test', pending: false, entryId: 'u1', context: ['a.py:1-3'] });
    expect(state.turnId).toBe('t1');
  });

  it('appends chunks to one assistant block per turn and records its entry id', () => {
    const state = run(
      started(),
      upd({ kind: 'agent_thought_chunk', content: { type: 'text', text: 'Let me see' } }),
      upd({ kind: 'agent_message_chunk', content: { type: 'text', text: 'Hel' } }),
      upd({ kind: 'agent_message_chunk', content: { type: 'text', text: 'lo' } }),
      upd({ kind: 'agent_message_end', entryId: 'a1' }),
    );
    const a = state.blocks[1] as AssistantBlock;
    expect(a).toMatchObject({ text: 'Hello', thought: 'Let me see', entryId: 'a1' });
    expect(state.blocks).toHaveLength(2);
  });

  it('starts a new assistant block after a tool call', () => {
    const state = run(
      started(),
      upd({ kind: 'agent_message_chunk', content: { type: 'text', text: 'one' } }),
      upd({ kind: 'tool_call', toolCallId: 'c1', title: 'Write a.py', toolKind: 'edit', status: 'pending', locations: [{ path: 'a.py' }], content: [] }),
      upd({
        kind: 'tool_call_update',
        toolCallId: 'c1',
        status: 'completed',
        content: [{ type: 'diff', path: 'a.py', oldText: null, newText: 'x' }, { type: 'content', content: { type: 'text', text: 'wrote 1 line' } }],
        locations: [],
      }),
      upd({ kind: 'agent_message_chunk', content: { type: 'text', text: 'two' } }),
    );
    expect(state.blocks.map((b) => b.type)).toEqual(['user', 'assistant', 'tool', 'assistant']);
    const tool = state.blocks[2] as ToolBlock;
    expect(tool).toMatchObject({ title: 'Write a.py', toolKind: 'edit', status: 'completed', diffs: ['a.py'], output: 'wrote 1 line' });
    expect(tool.locations).toEqual([{ path: 'a.py' }]);
  });

  it('reads the ACP spelling (sessionUpdate tag, kind = tool kind)', () => {
    const state = run(started(), upd({ sessionUpdate: 'tool_call', toolCallId: 'c9', title: 'Read b.py', kind: 'read', status: 'in_progress' }));
    expect(state.blocks[1]).toMatchObject({ type: 'tool', toolKind: 'read', status: 'in_progress' });
  });

  it('adds the checkpoint once, and keeps usage and the session name', () => {
    const cp = { checkpointId: 's1:c1', entryId: 'c1', turnId: 'turn1', files: [{ uri: 'file:///w/a.py', path: '/w/a.py', operation: 'created' }] };
    const state = run(
      started(),
      upd({ kind: 'checkpoint', checkpoint: cp }),
      upd({ kind: 'checkpoint', checkpoint: cp }),
      upd({ kind: 'usage', usage: { inputTokens: 5, outputTokens: 7 } }),
      upd({ kind: 'session_info', name: 'Tests' }),
    );
    const blocks = state.blocks.filter((b) => b.type === 'checkpoint') as CheckpointBlock[];
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toMatchObject({ checkpointId: 's1:c1', checkpointKind: 'turn', files: [{ path: '/w/a.py', operation: 'created' }] });
    expect(state.usage).toEqual({ inputTokens: 5, outputTokens: 7 });
    expect(state.session?.name).toBe('Tests');
  });

  it('ignores updates for another session and unknown kinds', () => {
    const s = started();
    expect(run(s, upd({ kind: 'agent_message_chunk', content: { type: 'text', text: 'x' } }, 't1', 'other'))).toBe(s);
    expect(run(s, upd({ kind: 'something_new' }))).toBe(s);
  });

  it('ends a turn: notices for cancel/error, open tool calls closed', () => {
    const mid = run(started(), upd({ kind: 'tool_call', toolCallId: 'c1', title: 'Run x', status: 'in_progress' }));
    const cancelled = run(mid, { type: 'promptEnded', result: { stopReason: 'cancelled' } });
    expect(cancelled.running).toBe(false);
    expect(cancelled.blocks.at(-1)).toMatchObject({ type: 'notice', level: 'warning', text: 'Cancelled.' });
    expect(cancelled.blocks.find((b) => b.type === 'tool')).toMatchObject({ status: 'failed' });
    const failed = run(started(), { type: 'promptEnded', error: 'no API key' });
    expect(failed.blocks.at(-1)).toMatchObject({ type: 'notice', level: 'error', text: 'no API key' });
    expect(failed.blocks[0]).toMatchObject({ pending: false });
    const ok = run(started(), { type: 'promptEnded', result: { stopReason: 'end_turn', usage: { outputTokens: 3 } } });
    expect(ok.blocks.map((b) => b.type)).toEqual(['user']);
    expect(ok.usage).toEqual({ outputTokens: 3 });
  });
});

describe('revert, permission and session actions', () => {
  const withCheckpoint = (): ChatState =>
    run(
      initialState(),
      reset([{ entryId: 'c1', kind: 'checkpoint', checkpointId: 's1:c1', files: [{ path: '/w/a.py', operation: 'modified' }] }]),
    );

  it('tracks a revert, its conflicts and its undo on the checkpoint', () => {
    let state = run(withCheckpoint(), { type: 'revertStarted', checkpointId: 's1:c1' });
    expect((state.blocks[0] as CheckpointBlock).revert?.status).toBe('running');
    const result = { applied: true, files: [{ path: '/w/a.py', result: 'conflict' }], undoCheckpointId: 's1:u1' };
    state = run(state, { type: 'revertResult', checkpointId: 's1:c1', result });
    expect((state.blocks[0] as CheckpointBlock).revert).toEqual({ status: 'done', undo: undefined, result });
    state = run(state, { type: 'revertStarted', checkpointId: 's1:c1', undo: true }, { type: 'revertResult', checkpointId: 's1:c1', undo: true, error: 'gone' });
    expect((state.blocks[0] as CheckpointBlock).revert).toMatchObject({ status: 'error', undo: true, error: 'gone', result });
    expect(run(state, { type: 'revertStarted', checkpointId: 'nope' })).toBe(state);
  });

  it('queues and resolves permission requests', () => {
    let state = run(initialState(), reset(), {
      type: 'permissionRequest',
      requestId: 'p1',
      params: {
        sessionId: 's1',
        toolCall: { toolCallId: 'c1', title: 'Run make test', toolKind: 'execute', rawInput: { command: 'make test' } },
        options: [
          { optionId: 'once', name: 'Allow once', kind: 'allow_once' },
          { optionId: 'no', name: 'Deny', kind: 'reject_once' },
        ],
      },
    });
    expect(state.permissions).toEqual([
      { requestId: 'p1', sessionId: 's1', title: 'Run make test', toolKind: 'execute', detail: 'make test', options: expect.any(Array) },
    ]);
    state = run(state, { type: 'permissionResolved', requestId: 'p1' });
    expect(state.permissions).toEqual([]);
  });

  it('updates session info in the list and the active session', () => {
    let state = run(initialState(), reset(), { type: 'sessions', sessions: [session(), session({ sessionId: 's2' })] });
    state = run(state, { type: 'sessionInfo', session: session({ name: 'Renamed' }) });
    expect(state.session?.name).toBe('Renamed');
    expect(state.sessions[0].name).toBe('Renamed');
    expect(state.sessions[1].name).toBeUndefined();
  });

  it('refreshes the active session from a new list', () => {
    const state = run(initialState(), reset(), { type: 'sessions', sessions: [session({ firstMessage: 'Fix it', messageCount: 2 })] });
    expect(state.session).toMatchObject({ firstMessage: 'Fix it', messageCount: 2 });
    expect(sessionLabel(state.session)).toBe('Fix it');
  });

  it('tracks the connection', () => {
    const state = run(initialState(), { type: 'connection', status: 'failed', error: 'no python' });
    expect(state).toMatchObject({ connection: 'failed', connectionError: 'no python' });
  });
});

describe('helpers', () => {
  it('labels sessions by name, first message, or as new', () => {
    expect(sessionLabel({ name: ' Login bug ', firstMessage: 'x' })).toBe('Login bug');
    expect(sessionLabel({ firstMessage: 'Fix\nthe   login bug' })).toBe('Fix the login bug');
    expect(sessionLabel({ firstMessage: 'x'.repeat(100) })).toHaveLength(60);
    expect(sessionLabel({ firstMessage: '' })).toBe('New session');
    expect(sessionLabel(undefined)).toBe('No session');
  });

  it('extracts text', () => {
    expect(contentText([{ type: 'text', text: 'a' }, { type: 'image' }, 'b'])).toBe('ab');
    expect(contentText({ type: 'content', content: { type: 'text', text: 'c' } })).toBe('c');
  });
});
