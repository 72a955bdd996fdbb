import { describe, expect, it } from 'vitest';

import { messageCount, relativeTime } from '../../src/relativeTime';

const now = new Date('2026-11-22T12:00:00.000Z');
const ago = (seconds: number): string => new Date(now.getTime() - seconds * 1000).toISOString();

describe('relativeTime', () => {
  it.each([
    [10, 'just now'],
    [90, '2 min ago'],
    [59 * 60, '59 min ago'],
    [3 * 3600, '3 h ago'],
    [30 * 3600, 'yesterday'],
    [4 * 86400, '4 days ago'],
    [8 * 86400, '1 week ago'],
    [20 * 86400, '3 weeks ago'],
  ])('%i s ago → %s', (seconds, text) => {
    expect(relativeTime(ago(seconds), now)).toBe(text);
  });

  it('shows a date for old or far-future times and nothing for bad input', () => {
    expect(relativeTime('2026-01-02T03:04:05Z', now)).toBe('2026-01-02');
    expect(relativeTime('2027-01-02T03:04:05Z', now)).toBe('2027-01-02');
    expect(relativeTime(ago(-10), now)).toBe('just now');
    expect(relativeTime('not a date', now)).toBe('');
    expect(relativeTime(undefined, now)).toBe('');
  });
});

describe('messageCount', () => {
  it('pluralizes', () => {
    expect(messageCount(1)).toBe('1 message');
    expect(messageCount(0)).toBe('0 messages');
    expect(messageCount(undefined)).toBe('0 messages');
    expect(messageCount(7)).toBe('7 messages');
  });
});
