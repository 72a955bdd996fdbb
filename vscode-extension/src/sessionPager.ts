/**
 * Sessions as the server pages them (`agent/session/list` with `query` and `cursor`): a workspace
 * can hold thousands, so the tree, the header dropdown and Switch Session show a page at a time,
 * search the whole store as the user types, and always list the active session.
 */
import type { ListResult, SessionInfo } from './protocol';

export type ListSessions = (params: { limit: number; query?: string; cursor?: string; tags?: string[] }) => Promise<ListResult>;

export class SessionPager {
  sessions: SessionInfo[] = [];
  nextCursor: string | undefined;
  query = '';
  /** only sessions with all of these tags (the tree's filter) */
  tags: string[] = [];
  private seq = 0;

  constructor(
    private readonly list: ListSessions,
    readonly pageSize = 100,
  ) {}

  /** The first page for `query` (empty: newest first). False when a later call overtook this one. */
  async search(query: string): Promise<boolean> {
    const seq = ++this.seq;
    const q = query.trim();
    const result = await this.list(this.params(q ? { limit: this.pageSize, query: q } : { limit: this.pageSize }));
    if (seq !== this.seq) return false;
    this.query = q;
    this.sessions = result.sessions;
    this.nextCursor = result.nextCursor;
    return true;
  }

  /** The next page of the current query, appended. */
  async more(): Promise<boolean> {
    const cursor = this.nextCursor;
    if (!cursor) return false;
    const seq = ++this.seq;
    const params = this.query ? { limit: this.pageSize, query: this.query, cursor } : { limit: this.pageSize, cursor };
    const result = await this.list(this.params(params));
    if (seq !== this.seq) return false;
    const seen = new Set(this.sessions.map((s) => s.sessionId));
    this.sessions = [...this.sessions, ...result.sessions.filter((s) => !seen.has(s.sessionId))];
    this.nextCursor = result.nextCursor;
    return true;
  }

  private params<T extends { limit: number }>(p: T): T & { tags?: string[] } {
    return this.tags.length ? { ...p, tags: this.tags } : p;
  }

  /** Re-read as many sessions as are shown now (after a change), keeping the query. */
  async refresh(): Promise<boolean> {
    const pages = Math.max(1, Math.ceil(this.sessions.length / this.pageSize));
    if (!(await this.search(this.query))) return false;
    for (let i = 1; i < pages && this.nextCursor; i++) if (!(await this.more())) return false;
    return true;
  }
}

/** The list with the active session in it: first if the page does not hold it. */
export function withActive(sessions: SessionInfo[], active: SessionInfo | undefined): SessionInfo[] {
  if (!active || sessions.some((s) => s.sessionId === active.sessionId)) return sessions;
  return [active, ...sessions];
}
