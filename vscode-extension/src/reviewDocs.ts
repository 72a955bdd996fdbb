/**
 * An edit under review (a permission request whose toolCall.content holds diffs) in VS Code's
 * diff editor: before and after as read-only documents of the `agent-review` scheme, the
 * editor's title bar offering Accept and Reject (agentLs.acceptEdit / agentLs.rejectEdit).
 */
import * as vscode from 'vscode';

import { reviewDiffs } from './transcript';

export const REVIEW_SCHEME = 'agent-review';

export class ReviewDocuments implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  /** requestId → the diff pairs shown for it */
  private readonly reviews = new Map<string, Array<{ before: vscode.Uri; after: vscode.Uri; path: string }>>();

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }

  /** Keep the request's before/after texts; false when it carries no diff. */
  add(requestId: string, content: unknown): boolean {
    const diffs = reviewDiffs(content);
    if (!diffs.length) return false;
    const pairs = diffs.map((d) => {
      const rel = d.path.replace(/^\/+/, '');
      const before = vscode.Uri.from({ scheme: REVIEW_SCHEME, path: `/${requestId}/before/${rel}` });
      const after = vscode.Uri.from({ scheme: REVIEW_SCHEME, path: `/${requestId}/after/${rel}` });
      this.texts.set(before.toString(), d.oldText ?? '');
      this.texts.set(after.toString(), d.newText);
      return { before, after, path: d.path };
    });
    this.reviews.set(requestId, pairs);
    return true;
  }

  has(requestId: string): boolean {
    return this.reviews.has(requestId);
  }

  /** The request a review document belongs to. */
  requestOf(uri: vscode.Uri | undefined): string | undefined {
    if (uri?.scheme !== REVIEW_SCHEME) return undefined;
    const id = uri.path.split('/')[1];
    return this.reviews.has(id) ? id : undefined;
  }

  /** The diff editor on the change (one file), or the multi-file diff. */
  async show(requestId: string): Promise<void> {
    const pairs = this.reviews.get(requestId) ?? [];
    const title = (p: { path: string }): string => `Review: ${vscode.workspace.asRelativePath(p.path)} (agent edit — Accept or Reject)`;
    if (pairs.length === 1) {
      await vscode.commands.executeCommand('vscode.diff', pairs[0].before, pairs[0].after, title(pairs[0]), { preview: false });
    } else if (pairs.length) {
      await vscode.commands.executeCommand(
        'vscode.changes',
        `Review: ${pairs.length} files (agent edit)`,
        pairs.map((p) => [p.after, p.before, p.after]),
      );
    }
  }

  /** The request is answered: its diff tabs close and its texts go. */
  async drop(requestId: string): Promise<void> {
    const pairs = this.reviews.get(requestId);
    if (!pairs) return;
    this.reviews.delete(requestId);
    for (const p of pairs) {
      this.texts.delete(p.before.toString());
      this.texts.delete(p.after.toString());
    }
    const tabs = vscode.window.tabGroups?.all.flatMap((g) => g.tabs) ?? [];
    const ours = tabs.filter((t) => {
      const input = t.input as { modified?: vscode.Uri; original?: vscode.Uri } | undefined;
      return input?.modified?.scheme === REVIEW_SCHEME && input.modified.path.split('/')[1] === requestId;
    });
    if (ours.length) await vscode.window.tabGroups.close(ours);
  }
}
