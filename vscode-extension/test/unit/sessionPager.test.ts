import { describe, expect, it } from 'vitest';

import type { ListResult, SessionInfo } from '../../src/protocol';
import { type ListSessions, SessionPager, withActive } from '../../src/sessionPager';

const info = (i: number): SessionInfo => ({
  sessionId: `s${String(i).padStart(3, '0')}`,
  workspace: '/w',
  createdAt: '2026-11-20T10:00:00Z',
  modifiedAt: new Date(Date.UTC(2026, 10, 20, 0, i)).toISOString(),
  messageCount: 1,
  firstMessage: i % 50 === 7 ? `needle ${i}` : `message ${i}`,
});

/** The server's list over 200 sessions: newest first, `query` over first messages, a cursor. */
function fakeList(all: SessionInfo[]): { list: ListSessions; calls: Array<Record<string, unknown>> } {
  const calls: Array<Record<string, unknown>> = [];
  const list: ListSessions = async (p) => {
    calls.push(p);
    const matching = [...all]
      .sort((a, b) => b.modifiedAt.localeCompare(a.modifiedAt))
      .filter((s) => !p.query || s.firstMessage.includes(p.query));
    const start = p.cursor ? Number(p.cursor) : 0;
    const sessions = matching.slice(start, start + p.limit);
    const result: ListResult = { sessions };
    if (start + p.limit < matching.length) result.nextCursor = String(start + p.limit);
    return result;
  };
  return { list, calls };
}

const all = Array.from({ length: 200 }, (_, i) => info(i));

describe('SessionPager', () => {
  it('pages past the newest 100 with the server cursor', async () => {
    const { list, calls } = fakeList(all);
    const pager = new SessionPager(list);
    await pager.search('');
    expect(pager.sessions).toHaveLength(100);
    expect(pager.sessions[0].sessionId).toBe('s199');
    expect(pager.nextCursor).toBe('100');
    await pager.more();
    expect(pager.sessions).toHaveLength(200);
    expect(pager.sessions.at(-1)?.sessionId).toBe('s000');
    expect(pager.nextCursor).toBeUndefined();
    expect(await pager.more()).toBe(false);
    expect(calls).toEqual([{ limit: 100 }, { limit: 100, cursor: '100' }]);
    // A refresh re-reads as many pages as are shown.
    await pager.refresh();
    expect(pager.sessions).toHaveLength(200);
  });

  it('searches all sessions with the server query, the oldest included', async () => {
    const { list, calls } = fakeList(all);
    const pager = new SessionPager(list, 2);
    await pager.search('  needle ');
    expect(pager.sessions.map((s) => s.firstMessage)).toEqual(['needle 157', 'needle 107']);
    await pager.more();
    expect(pager.sessions.map((s) => s.firstMessage)).toEqual(['needle 157', 'needle 107', 'needle 57', 'needle 7']);
    expect(calls.at(-1)).toEqual({ limit: 2, query: 'needle', cursor: '2' });
  });

  it('drops an answer that a later keystroke overtook', async () => {
    const releases: Array<() => void> = [];
    const { list } = fakeList(all);
    const slow: ListSessions = (p) => new Promise((resolve) => releases.push(() => void list(p).then(resolve)));
    const pager = new SessionPager(slow);
    const first = pager.search('needle 1');
    const second = pager.search('needle 5');
    releases[1]();
    expect(await second).toBe(true);
    releases[0]();
    expect(await first).toBe(false);
    expect(pager.query).toBe('needle 5');
    expect(pager.sessions.map((s) => s.firstMessage)).toEqual(['needle 57']);
  });

  it('always lists the active session', () => {
    const page = all.slice(0, 3);
    expect(withActive(page, all[150]).map((s) => s.sessionId)).toEqual(['s150', 's000', 's001', 's002']);
    expect(withActive(page, all[1])).toBe(page);
    expect(withActive(page, undefined)).toBe(page);
  });
});
