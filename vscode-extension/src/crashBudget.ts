/**
 * How many times a crashed server is restarted automatically: a few in a row, and the count starts
 * over once the server has run healthily for a while (a window open for days may crash again).
 */
export class CrashBudget {
  private crashes = 0;
  private lastCrash = -Infinity;

  constructor(
    readonly limit = 3,
    readonly healthyMs = 3 * 60_000,
  ) {}

  /** A crash at `now` (ms): its number if a restart is allowed, undefined when the budget is spent. */
  crashed(now: number): number | undefined {
    if (now - this.lastCrash >= this.healthyMs) this.crashes = 0;
    this.lastCrash = now;
    this.crashes += 1;
    return this.crashes <= this.limit ? this.crashes : undefined;
  }
}
