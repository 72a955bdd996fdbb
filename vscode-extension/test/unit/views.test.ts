import { describe, expect, it } from 'vitest';

import { AskAboutSelection } from '../../src/codeActions';
import type { SessionInfo } from '../../src/protocol';
import { SessionsTree, sessionDescription } from '../../src/sessionsTree';
import { Position, Range, Uri } from './vscodeStub';

const info = (id: string, modifiedAt: string, over: Partial<SessionInfo> = {}): SessionInfo => ({
  sessionId: id,
  workspace: '/w',
  createdAt: '2026-11-20T10:00:00Z',
  modifiedAt,
  messageCount: 3,
  firstMessage: `first of ${id}`,
  ...over,
});

describe('SessionsTree', () => {
  it('lists newest first with label, relative time, count and inline actions', () => {
    const tree = new SessionsTree();
    let changes = 0;
    tree.onDidChangeTreeData(() => (changes += 1));
    tree.set(
      [info('old', '2026-11-20T10:00:00Z'), info('new', '2026-11-22T11:59:00Z', { name: 'Login bug', messageCount: 1 }), info('mid', '2026-11-21T10:00:00Z')],
      'new',
      'mid',
    );
    expect(changes).toBe(1);
    const children = tree.getChildren() as SessionInfo[];
    expect(children.map((s) => s.sessionId)).toEqual(['new', 'mid', 'old']);
    const item = tree.getTreeItem(children[0]);
    expect(item.label).toBe('Login bug');
    expect(item.description).toMatch(/^● .* · 1 message$/);
    expect(item.contextValue).toBe('agentSession');
    expect(item.command).toEqual({ command: 'agentLs.openSession', title: 'Open Session', arguments: [children[0]] });
    expect((item.iconPath as { id: string }).id).toBe('comment-discussion');
    expect((tree.getTreeItem(children[1]).iconPath as { id: string }).id).toBe('loading~spin');
    expect(tree.getTreeItem(children[2]).label).toBe('first of old');
    expect(tree.getChildren(children[0])).toEqual([]);
  });

  it('describes a session by relative time and message count', () => {
    expect(sessionDescription(info('a', '2026-11-22T11:00:00Z'), new Date('2026-11-22T12:00:00Z'))).toBe('1 h ago · 3 messages');
  });
});

describe('AskAboutSelection', () => {
  it('offers the action only on a selection, with the document and range as arguments', () => {
    const provider = new AskAboutSelection();
    const doc = { uri: Uri.file('/w/a.py') };
    const empty = new Range(new Position(1, 0), new Position(1, 0));
    expect(provider.provideCodeActions(doc as never, empty as never)).toEqual([]);
    const range = new Range(new Position(1, 0), new Position(3, 4));
    const [action] = provider.provideCodeActions(doc as never, range as never);
    expect(action.title).toBe('Ask Agent About Selection');
    expect(action.command).toEqual({ command: 'agentLs.askAboutSelection', title: 'Ask Agent About Selection', arguments: [doc.uri, range] });
  });
});

describe('SessionsTree paging', () => {
  it('ends with "Load more sessions…" while the server has more', () => {
    const tree = new SessionsTree();
    tree.set([info('a', '2026-11-20T10:00:00Z')], 'a', undefined, true);
    const children = tree.getChildren();
    expect(children).toHaveLength(2);
    const more = tree.getTreeItem(children[1]);
    expect(more.label).toBe('Load more sessions…');
    expect(more.command).toEqual({ command: 'agentLs.loadMoreSessions', title: 'Load More Sessions' });
    tree.set([info('a', '2026-11-20T10:00:00Z')], 'a', undefined, false);
    expect(tree.getChildren()).toHaveLength(1);
  });
});
