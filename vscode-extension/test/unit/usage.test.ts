import { describe, expect, it } from 'vitest';

import type { TranscriptItem } from '../../src/protocol';
import { initialState, reduce } from '../../src/transcript';
import { addUsage, contextFill, emptyUsage, modelPrice, usageSummary } from '../../src/usage';

const session = { sessionId: 's1', workspace: '/w', createdAt: '', modifiedAt: '', messageCount: 0, firstMessage: '' };

describe('session usage', () => {
  it('prices the models it knows by family, and no other', () => {
    expect(modelPrice('claude-sonnet-4-6')).toEqual({ input: 3, output: 15 });
    expect(modelPrice('claude-opus-4-1-20250805')).toEqual({ input: 15, output: 75 });
    expect(modelPrice('claude-opus-4-5')).toEqual({ input: 5, output: 25 });
    expect(modelPrice('claude-haiku-4-5')).toEqual({ input: 1, output: 5 });
    expect(modelPrice('qwen3-coder')).toBeUndefined();
  });

  it('adds up every call: stored (snake_case) and live (camelCase) usage, cache included', () => {
    let u = addUsage(emptyUsage(), { input_tokens: 1000, output_tokens: 200, cache_read_input_tokens: 10_000 }, 'claude-sonnet-4-6');
    u = addUsage(u, { inputTokens: 500, outputTokens: 100, cacheCreationInputTokens: 2000 }, 'claude-sonnet-4-6');
    expect(u).toMatchObject({ inputTokens: 1500, outputTokens: 300, cacheReadTokens: 10_000, cacheWriteTokens: 2000, calls: 2 });
    // 1500×3 + 10,000×0.3 + 2000×3.75 + 300×15 per million = $0.0195
    expect(u.cost).toBeCloseTo(0.0195, 6);
    // The context holds the last call's input, cached input and output.
    expect(u.contextTokens).toBe(2600);
    expect(usageSummary(u)).toBe('13.5k in · 300 out · $0.02 · context 1% of 200k');
  });

  it('shows no cost once a call used a model without a known price', () => {
    const u = addUsage(addUsage(emptyUsage(), { inputTokens: 10, outputTokens: 1 }, 'claude-sonnet-4-6'), { inputTokens: 150_000, outputTokens: 10 }, 'qwen3-coder');
    expect(u.cost).toBeUndefined();
    expect(contextFill(u)).toBe(75);
    expect(usageSummary(u)).toBe('150k in · 11 out · context 75% of 200k');
  });

  it('is the session’s: from the reloaded transcript, earlier pages and live updates, reset on another session', () => {
    const items: TranscriptItem[] = [
      { entryId: 'e1', kind: 'user', content: 'hi' },
      { entryId: 'e2', kind: 'assistant', model: 'claude-sonnet-4-6', usage: { input_tokens: 100, output_tokens: 10 }, content: [] },
    ];
    let s = reduce(initialState(), { type: 'reset', page: { session, items, hasMore: true } });
    expect(s.sessionUsage).toMatchObject({ inputTokens: 100, outputTokens: 10, calls: 1 });
    s = reduce(s, {
      type: 'prepend',
      sessionId: 's1',
      items: [{ entryId: 'e0', kind: 'assistant', model: 'claude-sonnet-4-6', usage: { input_tokens: 50, output_tokens: 5 }, content: [] }],
      hasMore: false,
    });
    expect(s.sessionUsage).toMatchObject({ inputTokens: 150, outputTokens: 15, calls: 2, contextTokens: 110 });
    s = reduce(s, { type: 'update', params: { sessionId: 's1', update: { kind: 'usage', usage: { inputTokens: 300, outputTokens: 30 }, model: 'claude-sonnet-4-6' } } });
    expect(s.sessionUsage).toMatchObject({ inputTokens: 450, outputTokens: 45, calls: 3, contextTokens: 330 });
    s = reduce(s, { type: 'reset', page: { session: { ...session, sessionId: 's2' }, items: [], hasMore: false } });
    expect(s.sessionUsage.calls).toBe(0);
  });
});
