import { describe, expect, it } from 'vitest';

import { CrashBudget } from '../../src/crashBudget';

describe('CrashBudget', () => {
  it('allows three restarts in a row, then none', () => {
    const budget = new CrashBudget(3, 60_000);
    expect([0, 1000, 2000, 3000].map((t) => budget.crashed(t))).toEqual([1, 2, 3, undefined]);
  });

  it('starts over after a healthy period, so a fourth crash in a window’s life still restarts', () => {
    const budget = new CrashBudget(3, 60_000);
    expect([0, 1000, 2000].map((t) => budget.crashed(t))).toEqual([1, 2, 3]);
    expect(budget.crashed(2000 + 60_000)).toBe(1);
    expect(budget.crashed(2000 + 60_000 + 10)).toBe(2);
  });
});
