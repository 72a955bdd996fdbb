/**
 * Renaming a session must not move it: the server records a rename as a change (its modifiedAt
 * moves to now), so the lists would put the renamed session first. The client keeps the time it
 * had before the rename until the session really changes again (modifiedAt moves past the rename).
 */
import type { SessionInfo } from './protocol';

export class StableOrder {
  /** sessionId → the modifiedAt the rename set, and the one the session had before it */
  private readonly kept = new Map<string, { bumped: string; before: string }>();

  /** After a rename (or a tag change): `after` as the server answered, shown with `before`'s time. */
  keep(before: SessionInfo | undefined, after: SessionInfo): SessionInfo {
    if (before && after.modifiedAt !== before.modifiedAt) {
      this.kept.set(after.sessionId, { bumped: after.modifiedAt, before: before.modifiedAt });
    }
    return this.fix(after);
  }

  private fix(s: SessionInfo): SessionInfo {
    const k = this.kept.get(s.sessionId);
    if (!k) return s;
    if (s.modifiedAt !== k.bumped) {
      // Changed since (a prompt, …): its real time places it now.
      this.kept.delete(s.sessionId);
      return s;
    }
    return { ...s, modifiedAt: k.before };
  }

  /** The list with renamed sessions back at their place (newest first, as the server sorts). */
  apply(sessions: SessionInfo[]): SessionInfo[] {
    if (!this.kept.size) return sessions;
    const fixed = sessions.map((s) => this.fix(s));
    if (fixed.every((s, i) => s === sessions[i])) return sessions;
    return fixed
      .map((s, i) => ({ s, i }))
      .sort((a, b) => b.s.modifiedAt.localeCompare(a.s.modifiedAt) || a.i - b.i)
      .map((x) => x.s);
  }
}
