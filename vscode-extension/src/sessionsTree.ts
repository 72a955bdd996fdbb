/** The Sessions tree view: newest first, name or first message, relative time, message count. */
import * as vscode from 'vscode';

import type { SessionInfo } from './protocol';
import { messageCount, relativeTime } from './relativeTime';
import { sessionLabel } from './transcript';

export function sessionDescription(s: SessionInfo, now: Date = new Date()): string {
  const parts = [relativeTime(s.modifiedAt, now), messageCount(s.messageCount)].filter(Boolean);
  return parts.join(' · ');
}

export class SessionsTree implements vscode.TreeDataProvider<SessionInfo> {
  private readonly changed = new vscode.EventEmitter<SessionInfo | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private sessions: SessionInfo[] = [];
  private activeId: string | undefined;
  private runningId: string | undefined;

  set(sessions: SessionInfo[], activeId: string | undefined, runningId: string | undefined): void {
    this.sessions = sessions;
    this.activeId = activeId;
    this.runningId = runningId;
    this.changed.fire(undefined);
  }

  getChildren(element?: SessionInfo): SessionInfo[] {
    if (element) return [];
    return [...this.sessions].sort((a, b) => b.modifiedAt.localeCompare(a.modifiedAt));
  }

  getTreeItem(s: SessionInfo): vscode.TreeItem {
    const active = s.sessionId === this.activeId;
    const item = new vscode.TreeItem(sessionLabel(s), vscode.TreeItemCollapsibleState.None);
    item.id = s.sessionId;
    item.description = `${active ? '● ' : ''}${sessionDescription(s)}`;
    item.contextValue = 'agentSession';
    item.iconPath = new vscode.ThemeIcon(
      s.sessionId === this.runningId ? 'loading~spin' : active ? 'comment-discussion' : 'comment',
    );
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendText(sessionLabel(s));
    tip.appendMarkdown('\n\n');
    if (s.firstMessage && s.name) tip.appendText(`“${s.firstMessage.slice(0, 200)}”\n\n`);
    tip.appendText(`${messageCount(s.messageCount)} · modified ${relativeTime(s.modifiedAt)} · created ${relativeTime(s.createdAt)}`);
    if (s.parentSessionId) tip.appendText(`\n\nforked from ${s.parentSessionId}`);
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
  }
}
