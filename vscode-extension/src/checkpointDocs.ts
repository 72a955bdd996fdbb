/**
 * Read-only documents with a checkpoint's before/after text, for VS Code's diff editor:
 * `agent-ls-checkpoint:/<file path>?<json {checkpointId, file uri, side}>`.
 */
import * as vscode from 'vscode';

import type { DiffFile, DiffResult } from './protocol';

export const CHECKPOINT_SCHEME = 'agent-ls-checkpoint';

export type Side = 'before' | 'after';

export function checkpointUri(checkpointId: string, file: DiffFile, side: Side): vscode.Uri {
  const fileUri = vscode.Uri.parse(file.uri);
  const query = JSON.stringify({ checkpointId, uri: file.uri, side });
  return vscode.Uri.from({ scheme: CHECKPOINT_SCHEME, path: fileUri.path, query });
}

export class CheckpointDocuments implements vscode.TextDocumentContentProvider {
  private readonly cache = new Map<string, DiffResult>();

  constructor(private readonly fetch: (checkpointId: string) => Promise<DiffResult>) {}

  async diff(checkpointId: string, refresh = false): Promise<DiffResult> {
    let result = refresh ? undefined : this.cache.get(checkpointId);
    if (!result) {
      result = await this.fetch(checkpointId);
      this.cache.set(checkpointId, result);
      if (this.cache.size > 50) this.cache.delete(this.cache.keys().next().value as string);
    }
    return result;
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const q = JSON.parse(uri.query) as { checkpointId: string; uri: string; side: Side };
    const result = await this.diff(q.checkpointId);
    const file = result.files.find((f) => f.uri === q.uri);
    if (!file) return '';
    return (q.side === 'before' ? file.before : file.after) ?? '';
  }
}
