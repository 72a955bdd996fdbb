import { describe, expect, it } from 'vitest';

import type { SessionInfo } from '../../src/protocol';
import { StableOrder } from '../../src/stableOrder';

const info = (id: string, modifiedAt: string, name?: string): SessionInfo => ({
  sessionId: id,
  name,
  workspace: '/w',
  createdAt: '2026-11-20T00:00:00Z',
  modifiedAt,
  messageCount: 1,
  firstMessage: id,
});

describe('StableOrder', () => {
  it('keeps a renamed session where it was until it really changes again', () => {
    const order = new StableOrder();
    const before = info('b', '2026-11-21T00:00:00Z');
    const renamed = order.keep(before, info('b', '2026-11-30T00:00:00Z', 'Renamed'));
    expect(renamed).toMatchObject({ name: 'Renamed', modifiedAt: '2026-11-21T00:00:00Z' });
    // The server lists it first now (its rename bumped modifiedAt): the client puts it back.
    const listed = [info('b', '2026-11-30T00:00:00Z', 'Renamed'), info('a', '2026-11-22T00:00:00Z'), info('c', '2026-11-20T00:00:00Z')];
    expect(order.apply(listed).map((s) => s.sessionId)).toEqual(['a', 'b', 'c']);
    // A prompt later moves it to the top, as any change does.
    const prompted = [info('b', '2026-11-30T01:00:00Z', 'Renamed'), info('a', '2026-11-22T00:00:00Z')];
    expect(order.apply(prompted).map((s) => s.sessionId)).toEqual(['b', 'a']);
    expect(order.apply(listed).map((s) => s.sessionId)).toEqual(['b', 'a', 'c']);
  });
});
