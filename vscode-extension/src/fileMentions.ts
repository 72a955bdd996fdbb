/**
 * Files for an `@` mention: `workspace.findFiles` over the workspace (the files.exclude and
 * search.exclude settings applied), then what git ignores (.gitignore, .git/info/exclude, the
 * global excludes) left out with `git check-ignore`, best matches first.
 */
import { spawn } from 'node:child_process';

import * as vscode from 'vscode';

import type { Attachment } from './messages';

const GLOB_SPECIALS = /[[\]{}*?!\\]/g;

/** The excludes VS Code's own search uses: files.exclude and search.exclude entries set to true. */
function excludeGlob(): string | undefined {
  const globs = new Set<string>();
  for (const section of ['files', 'search']) {
    const map = vscode.workspace.getConfiguration(section).get<Record<string, unknown>>('exclude', {}) ?? {};
    for (const [glob, on] of Object.entries(map)) if (on === true) globs.add(glob);
  }
  return globs.size ? `{${[...globs].join(',')}}` : undefined;
}

/** Of `paths` (relative to `cwd`), the ones git ignores; none when `cwd` is not in a git work tree. */
export function gitIgnored(cwd: string, paths: string[]): Promise<Set<string>> {
  return new Promise((resolve) => {
    if (!paths.length) return resolve(new Set());
    let out = '';
    const git = spawn('git', ['check-ignore', '--stdin', '-z'], { cwd, stdio: ['pipe', 'pipe', 'ignore'] });
    git.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    // Exit 1: nothing ignored; 128: not a repository (nothing to leave out).
    git.on('close', () => resolve(new Set(out.split('\0').filter(Boolean))));
    git.on('error', () => resolve(new Set()));
    git.stdin.on('error', () => undefined);
    git.stdin.end(paths.join('\0'));
  });
}

/** Ranked: the name starting with the query, then the name containing it, then shorter paths. */
export function rankMentions(paths: string[], query: string): string[] {
  const q = query.toLowerCase();
  const score = (p: string): number => {
    const name = p.slice(p.lastIndexOf('/') + 1).toLowerCase();
    return name.startsWith(q) ? 0 : name.includes(q) ? 1 : 2;
  };
  return [...paths].sort((a, b) => score(a) - score(b) || a.length - b.length || a.localeCompare(b));
}

export async function findMentionFiles(query: string, limit = 20): Promise<Attachment[]> {
  const q = query.replace(GLOB_SPECIALS, '');
  const include = q ? `{**/*${q}*,**/*${q}*/**}` : '**/*';
  const uris = await vscode.workspace.findFiles(include, excludeGlob(), 500);
  const byFolder = new Map<string, Array<{ uri: vscode.Uri; rel: string }>>();
  for (const uri of uris) {
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    if (!folder) continue;
    const rel = vscode.workspace.asRelativePath(uri, false);
    const list = byFolder.get(folder.uri.fsPath) ?? [];
    list.push({ uri, rel });
    byFolder.set(folder.uri.fsPath, list);
  }
  const kept = new Map<string, vscode.Uri>();
  for (const [cwd, files] of byFolder) {
    const ignored = await gitIgnored(cwd, files.map((f) => f.rel));
    for (const f of files) if (!ignored.has(f.rel)) kept.set(vscode.workspace.asRelativePath(f.uri), f.uri);
  }
  return rankMentions([...kept.keys()], q)
    .slice(0, limit)
    .map((label) => ({ label, uri: (kept.get(label) as vscode.Uri).toString() }));
}
