import { describe, expect, it } from 'vitest';

import type { SessionInfo, TranscriptItem } from '../../src/protocol';
import { type ChatAction, type ChatState, initialState, reduce, reviewDiffs } from '../../src/transcript';

const session: SessionInfo = { sessionId: 's1', workspace: '/w', createdAt: '', modifiedAt: '', messageCount: 0, firstMessage: '' };
const run = (state: ChatState, ...actions: ChatAction[]): ChatState => actions.reduce(reduce, state);
const reset = (items: TranscriptItem[]): ChatAction => ({ type: 'reset', page: { session, items, hasMore: false } });

describe('turn ends', () => {
  it('shows a failed turn’s marker after a reload as it was live', () => {
    const items = [
      { entryId: 'u1', kind: 'user', content: 'Do it' },
      { entryId: 'x1', kind: 'turn_end', ts: '2026-11-30T00:00:00Z', stopReason: 'error', error: 'Overloaded (529)' },
    ] as TranscriptItem[];
    const reloaded = run(initialState(), reset(items)).blocks.at(-1);
    const live = run(
      initialState(),
      reset(items.slice(0, 1)),
      { type: 'update', params: { sessionId: 's1', update: { kind: 'turn_end', entryId: 'x1', ts: '2026-11-30T00:00:00Z', stopReason: 'error', error: 'Overloaded (529)' } } },
    ).blocks.at(-1);
    expect(reloaded).toMatchObject({ type: 'turnEnd', entryId: 'x1', stopReason: 'error', error: 'Overloaded (529)' });
    expect(live).toEqual({ ...reloaded, key: live?.key });
  });

  it('one marker per turn: it replaces the answer’s notice, and the notice is not added after it', () => {
    const endNotice: ChatAction = { type: 'promptEnded', result: { stopReason: 'error', error: 'Overloaded' } };
    const marker: ChatAction = { type: 'update', params: { sessionId: 's1', update: { kind: 'turn_end', entryId: 'x1', stopReason: 'error', error: 'Overloaded' } } };
    const start: ChatAction = { type: 'promptStarted', text: 'Do it' };
    for (const order of [[marker, endNotice], [endNotice, marker]]) {
      const s = run(initialState(), reset([]), start, ...order);
      expect(s.blocks.map((b) => b.type)).toEqual(['user', 'turnEnd']);
    }
  });
});

describe('rewind and edit', () => {
  it('keeps the rewind of this session, drops it on another or a new turn', () => {
    const rewind = { entryId: 'u1', scope: 'both' as const, label: 'Do it', status: 'plan' as const };
    let s = run(initialState(), reset([]), { type: 'rewind', rewind });
    expect(s.rewind).toEqual(rewind);
    s = run(s, reset([]));
    expect(s.rewind).toEqual(rewind);
    expect(run(s, { type: 'promptStarted', text: 'x' }).rewind).toBeUndefined();
    expect(run(s, { type: 'reset', page: { session: { ...session, sessionId: 's2' }, items: [], hasMore: false } }).rewind).toBeUndefined();
  });

  it('edit and resend takes the message and what followed out of the view', () => {
    const s = run(
      initialState(),
      reset([
        { entryId: 'u1', kind: 'user', content: 'one' },
        { entryId: 'a1', kind: 'assistant', content: [{ type: 'text', text: 'One.' }] },
        { entryId: 'u2', kind: 'user', content: 'two' },
        { entryId: 'a2', kind: 'assistant', content: [{ type: 'text', text: 'Two.' }] },
      ]),
      { type: 'truncate', entryId: 'u2' },
    );
    expect(s.blocks.map((b) => ('entryId' in b ? b.entryId : ''))).toEqual(['u1', 'a1']);
  });
});

describe('review before apply', () => {
  it('counts each file’s added and removed lines from the request’s diffs', () => {
    expect(
      reviewDiffs([
        { type: 'diff', path: '/w/a.py', oldText: 'a\nb\nc\n', newText: 'a\nB\nB2\nc\n' },
        { type: 'diff', path: '/w/new.py', oldText: null, newText: 'x\ny\n' },
        { type: 'content', content: { type: 'text', text: 'Edit a.py' } },
      ]).map(({ path, added, removed }) => ({ path, added, removed })),
    ).toEqual([
      { path: '/w/a.py', added: 2, removed: 1 },
      { path: '/w/new.py', added: 2, removed: 0 },
    ]);
  });

  it('keeps the diffs’ counts on the pending permission, not their text', () => {
    const s = run(initialState(), reset([]), {
      type: 'permissionRequest',
      requestId: 'p1',
      params: { sessionId: 's1', toolCall: { toolCallId: 't', title: 'Edit a.py', content: [{ type: 'diff', path: 'a.py', oldText: 'a\n', newText: 'b\n' }] }, options: [] },
    });
    expect(s.permissions[0].diffs).toEqual([{ path: 'a.py', added: 1, removed: 1 }]);
    expect(s.permissions[0].detail).toBeUndefined();
  });
});

describe('command output', () => {
  it('shows the output tail and the exit code of an execute tool', () => {
    const s = run(initialState(), reset([]), { type: 'promptStarted', text: 'test' }, {
      type: 'update',
      params: {
        sessionId: 's1',
        turnId: 't1',
        update: { kind: 'tool_call_update', toolCallId: 'c1', status: 'failed', content: [{ type: 'content', content: { type: 'text', text: 'FAILED 1\nExit code 1' } }], rawOutput: { exitCode: 1, truncated: false } },
      },
    });
    expect(s.blocks.at(-1)).toMatchObject({ type: 'tool', output: 'FAILED 1\nExit code 1', exitCode: 1, status: 'failed' });
  });
});
