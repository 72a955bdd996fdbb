/** The Sessions tree view: newest first, name or first message, relative time, message count. */
import * as vscode from 'vscode';

import type { SessionInfo } from './protocol';
import { messageCount, relativeTime } from './relativeTime';
import { sessionLabel } from './transcript';

export function sessionDescription(s: SessionInfo, now: Date = new Date()): string {
  const parts = [relativeTime(s.modifiedAt, now), messageCount(s.messageCount)].filter(Boolean);
  return parts.join(' · ');
}

/** The row after the last page that loads the next one. */
export const LOAD_MORE = { loadMore: true } as const;
type Node = SessionInfo | typeof LOAD_MORE;

export class SessionsTree implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private sessions: SessionInfo[] = [];
  private activeId: string | undefined;
  private runningId: string | undefined;
  private hasMore = false;
  private readonly filterChanged = new vscode.EventEmitter<string[]>();
  /** the tag filter changed (the view says what it shows) */
  readonly onDidChangeFilter = this.filterChanged.event;

  set(sessions: SessionInfo[], activeId: string | undefined, runningId: string | undefined, hasMore = false): void {
    this.sessions = sessions;
    this.activeId = activeId;
    this.runningId = runningId;
    this.hasMore = hasMore;
    this.changed.fire(undefined);
  }

  setFilter(tags: string[]): void {
    this.filterChanged.fire(tags);
  }

  /** Newest first, the active session included, then "Load more" when the server has more. */
  getChildren(element?: Node): Node[] {
    if (element) return [];
    const sessions: Node[] = [...this.sessions].sort((a, b) => b.modifiedAt.localeCompare(a.modifiedAt));
    return this.hasMore ? [...sessions, LOAD_MORE] : sessions;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if ('loadMore' in node) {
      const more = new vscode.TreeItem('Load more sessions…', vscode.TreeItemCollapsibleState.None);
      more.id = 'agentLs.loadMoreSessions';
      more.iconPath = new vscode.ThemeIcon('more');
      more.tooltip = 'Older sessions: the next page, or Search Sessions to find one by name or message';
      more.command = { command: 'agentLs.loadMoreSessions', title: 'Load More Sessions' };
      return more;
    }
    const s = node;
    const active = s.sessionId === this.activeId;
    const item = new vscode.TreeItem(sessionLabel(s), vscode.TreeItemCollapsibleState.None);
    item.id = s.sessionId;
    const tags = (s.tags ?? []).map((t) => `#${t}`).join(' ');
    item.description = `${active ? '● ' : ''}${sessionDescription(s)}${tags ? ` · ${tags}` : ''}`;
    item.contextValue = 'agentSession';
    item.iconPath = new vscode.ThemeIcon(
      s.sessionId === this.runningId ? 'loading~spin' : active ? 'comment-discussion' : 'comment',
    );
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendText(sessionLabel(s));
    tip.appendMarkdown('\n\n');
    if (s.firstMessage && s.name) tip.appendText(`“${s.firstMessage.slice(0, 200)}”\n\n`);
    tip.appendText(`${messageCount(s.messageCount)} · modified ${relativeTime(s.modifiedAt)} · created ${relativeTime(s.createdAt)}`);
    if (s.parentSessionId) {
      const parent = this.sessions.find((p) => p.sessionId === s.parentSessionId);
      tip.appendText(`\n\nforked from ${parent ? `“${sessionLabel(parent)}”` : s.parentSessionId}`);
    }
    if (tags) tip.appendText(`\n\ntags: ${tags}`);
    if (active) tip.appendText('\n\nactive in this window');
    item.tooltip = tip;
    item.accessibilityInformation = {
      label: `${sessionLabel(s)}, ${sessionDescription(s)}${active ? ', active' : ''}`,
    };
    item.command = { command: 'agentLs.openSession', title: 'Open Session', arguments: [s] };
    return item;
  }

  dispose(): void {
    this.changed.dispose();
    this.filterChanged.dispose();
  }
}
