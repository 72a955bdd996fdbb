/**
 * Finding and carrying sessions: full-text search whose hits open the session at the entry,
 * tags, Export Session…, Import Sessions… and Restore from Trash. Each talks to the server
 * through `request` and hands what it opened or changed back to the controller.
 */
import * as path from 'node:path';

import * as vscode from 'vscode';

import {
  type ExportFormat,
  type ExportResult,
  type ImportResult,
  Method,
  type SearchHit,
  type SearchResult,
  type SessionInfo,
  type TrashResult,
} from './protocol';
import { relativeTime } from './relativeTime';
import { sessionLabel } from './transcript';

export type Request = <T>(method: string, params: Record<string, unknown>) => Promise<T>;

const ROLE: Record<string, string> = { user: 'you', assistant: 'agent', thinking: 'thinking', tool: 'tool' };

/** The snippet with its matches marked (a QuickPick detail cannot be highlighted otherwise). */
export function markedSnippet(hit: Pick<SearchHit, 'snippet' | 'highlights'>): string {
  let out = '';
  let at = 0;
  for (const [start, end] of [...(hit.highlights ?? [])].sort((a, b) => a[0] - b[0])) {
    if (start < at || end <= start) continue;
    out += `${hit.snippet.slice(at, start)}«${hit.snippet.slice(start, end)}»`;
    at = end;
  }
  return (out + hit.snippet.slice(at)).replace(/\s+/g, ' ');
}

/**
 * Agent: Search Sessions — a search box over every session's messages (all workspaces when
 * asked), best hits first; the picked hit is returned to open its session at that entry.
 */
export async function searchSessions(request: Request, onError: (what: string, e: unknown) => void): Promise<SearchHit | undefined> {
  type Item = vscode.QuickPickItem & { hit?: SearchHit; all?: boolean };
  const qp = vscode.window.createQuickPick<Item>();
  qp.placeholder = 'Search the messages of every session (words; "quoted phrase")';
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  let allWorkspaces = false;
  let seq = 0;
  const run = async (query: string): Promise<void> => {
    const mine = ++seq;
    if (!query.trim()) {
      qp.items = [];
      return;
    }
    qp.busy = true;
    try {
      const result = await request<SearchResult>(Method.sessionSearch, { query, limit: 50, ...(allWorkspaces ? { allWorkspaces } : {}) });
      if (mine !== seq) return;
      const items: Item[] = result.hits.map((hit) => ({
        label: `$(comment) ${hit.sessionName?.trim() || hit.sessionId}`,
        description: `${ROLE[hit.role] ?? hit.role} · ${relativeTime(hit.ts)}${allWorkspaces ? ` · ${path.basename(hit.workspace)}` : ''}`,
        detail: markedSnippet(hit),
        // The server matched it: the picker's own filter must not hide it.
        alwaysShow: true,
        hit,
      }));
      if (!allWorkspaces) items.push({ label: '$(search) Search all workspaces', all: true, alwaysShow: true });
      if (!result.hits.length) items.unshift({ label: 'No message matches', alwaysShow: true });
      qp.items = items;
    } catch (e) {
      onError('Search failed', e);
    } finally {
      if (mine === seq) qp.busy = false;
    }
  };
  let typing: ReturnType<typeof setTimeout> | undefined;
  const picked = new Promise<SearchHit | undefined>((resolve) => {
    qp.onDidChangeValue((value) => {
      if (typing) clearTimeout(typing);
      typing = setTimeout(() => void run(value), 150);
    });
    qp.onDidAccept(() => {
      const item = qp.selectedItems[0];
      if (item?.all) {
        allWorkspaces = true;
        void run(qp.value);
        return;
      }
      if (!item?.hit) return;
      resolve(item.hit);
      qp.hide();
    });
    qp.onDidHide(() => resolve(undefined));
  });
  qp.show();
  const hit = await picked;
  if (typing) clearTimeout(typing);
  qp.dispose();
  return hit;
}

/** Tags as typed: comma or space separated, `#` optional, each once. */
export function parseTags(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).map((t) => t.replace(/^#/, '').trim()).filter(Boolean))];
}

/** Agent: Edit Tags… — the session's tags replace the old ones. */
export async function editTags(request: Request, session: SessionInfo): Promise<SessionInfo | undefined> {
  const text = await vscode.window.showInputBox({
    prompt: `Tags of "${sessionLabel(session)}" (separated by commas or spaces; empty removes them)`,
    value: (session.tags ?? []).join(', '),
    validateInput: (v) => (parseTags(v).every((t) => t.length <= 64) ? undefined : 'A tag has at most 64 characters'),
  });
  if (text === undefined) return undefined;
  return request<SessionInfo>(Method.sessionSetMetadata, { sessionId: session.sessionId, tags: parseTags(text) });
}

/** Agent: Filter Sessions by Tag… — the tags to list by (all must match); [] shows every session. */
export async function pickTagFilter(known: string[], current: string[]): Promise<string[] | undefined> {
  type Item = vscode.QuickPickItem & { tag?: string; clear?: boolean };
  const tags = [...new Set([...current, ...known])].sort();
  if (!tags.length) {
    void vscode.window.showInformationMessage('Agent: no session has tags yet (Edit Tags… on a session adds some).');
    return undefined;
  }
  const items: Item[] = [
    ...(current.length ? [{ label: '$(clear-all) Show all sessions', clear: true } as Item] : []),
    ...tags.map((tag) => ({ label: `#${tag}`, tag, picked: current.includes(tag) })),
  ];
  const picks = await vscode.window.showQuickPick(items, { placeHolder: 'Show the sessions with all of these tags', canPickMany: true });
  if (!picks) return undefined;
  if (picks.some((p) => p.clear)) return [];
  return picks.map((p) => p.tag).filter((t): t is string => !!t);
}

const FORMATS: Array<{ format: ExportFormat; label: string; detail: string; ext: string }> = [
  { format: 'markdown', label: 'Markdown', detail: 'A readable transcript: messages, tool calls with their outputs, checkpoints with diffs', ext: 'md' },
  { format: 'html', label: 'HTML', detail: 'The same, as one self-contained page', ext: 'html' },
  { format: 'bundle', label: 'Bundle (.tar)', detail: 'The session and its checkpoints, to import on another machine (Import Sessions…)', ext: 'tar' },
  { format: 'jsonl', label: 'JSONL', detail: 'The session file as stored, every branch', ext: 'jsonl' },
];

function fileName(session: SessionInfo): string {
  return sessionLabel(session).replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || session.sessionId;
}

/** Agent: Export Session… — a format, a place to save it (the server writes the file). */
export async function exportSession(request: Request, session: SessionInfo): Promise<void> {
  const pick = await vscode.window.showQuickPick(
    FORMATS.map((f) => ({ label: f.label, detail: f.detail, f })),
    { placeHolder: `Export "${sessionLabel(session)}" as` },
  );
  if (!pick) return;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const name = `${fileName(session)}.${pick.f.ext}`;
  const target = await vscode.window.showSaveDialog({
    defaultUri: folder ? vscode.Uri.joinPath(folder, name) : undefined,
    filters: { [pick.f.label]: [pick.f.ext] },
    saveLabel: 'Export',
  });
  if (!target) return;
  const result = await request<ExportResult>(Method.sessionExport, { sessionId: session.sessionId, format: pick.f.format, path: target.fsPath });
  const where = result.path ?? target.fsPath;
  const size = typeof result.bytes === 'number' ? ` (${result.bytes.toLocaleString('en-US')} bytes)` : '';
  const open = pick.f.format === 'bundle' ? [] : ['Open'];
  const answer = await vscode.window.showInformationMessage(`Agent: exported "${sessionLabel(session)}" to ${where}${size}.`, ...open);
  if (answer === 'Open') await vscode.window.showTextDocument(vscode.Uri.file(where));
}

const SOURCES: Array<{ label: string; detail: string; params?: Record<string, unknown> }> = [
  { label: 'A bundle (.tar)…', detail: 'A session exported with Export Session… (from this or another machine)' },
  { label: 'Claude Code', detail: 'Its sessions of this folder (~/.claude/projects)', params: { from: 'claude-code' } },
  { label: 'Codex CLI', detail: 'Its sessions of this folder (~/.codex/sessions)', params: { from: 'codex' } },
  { label: 'pi', detail: 'Its sessions of this folder', params: { from: 'pi' } },
];

/** Agent: Import Sessions… — a bundle or another agent's sessions; importing twice adds nothing twice. */
export async function importSessions(request: Request, log: (line: string) => void): Promise<ImportResult | undefined> {
  const pick = await vscode.window.showQuickPick(SOURCES, { placeHolder: 'Import sessions from' });
  if (!pick) return undefined;
  let params = pick.params;
  if (!params) {
    const files = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'Session bundle': ['tar', 'zip'] }, openLabel: 'Import' });
    if (!files?.length) return undefined;
    params = { path: files[0].fsPath };
  }
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const result = await request<ImportResult>(Method.sessionImport, folder ? { ...params, workspace: folder } : params);
  for (const p of result.problems) log(`[agent-ls] import: ${p}`);
  const n = result.imported.length;
  const parts = [`imported ${n} session${n === 1 ? '' : 's'}`];
  if (result.skipped) parts.push(`${result.skipped} already imported`);
  if (result.problems.length) parts.push(`${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} (Agent: Show Server Log)`);
  const show = result.problems.length ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  void show(`Agent: ${parts.join(', ')}.`);
  return result;
}

/** Agent: Restore from Trash — the deleted sessions, newest deleted first; the picked come back. */
export async function restoreFromTrash(request: Request, onError: (what: string, e: unknown) => void): Promise<SessionInfo[]> {
  const trash = await request<TrashResult>(Method.sessionTrash, {});
  if (!trash.sessions.length) {
    void vscode.window.showInformationMessage('Agent: the trash is empty.');
    return [];
  }
  const picks = await vscode.window.showQuickPick(
    trash.sessions.map((s) => ({
      label: sessionLabel(s),
      description: `deleted ${relativeTime(s.deletedAt)} · ${s.messageCount} msg`,
      detail: s.name && s.firstMessage ? s.firstMessage.replace(/\s+/g, ' ').slice(0, 160) : undefined,
      session: s,
    })),
    { placeHolder: 'Deleted sessions: pick the ones to restore', canPickMany: true, matchOnDetail: true },
  );
  const restored: SessionInfo[] = [];
  for (const pick of picks ?? []) {
    try {
      restored.push(await request<SessionInfo>(Method.sessionUndelete, { sessionId: pick.session.sessionId }));
    } catch (e) {
      onError(`Could not restore "${pick.label}"`, e);
    }
  }
  if (restored.length) {
    void vscode.window.showInformationMessage(`Agent: restored ${restored.length} session${restored.length === 1 ? '' : 's'} from the trash.`);
  }
  return restored;
}
