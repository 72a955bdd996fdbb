/**
 * How the server is started, from the settings: pure functions, no `vscode` import.
 */
import * as path from 'node:path';

import type { InitializationOptions, PermissionDecision } from './protocol';

export interface ServerSettings {
  serverPath: string;
  serverArgs: string[];
  pythonPath: string;
  model: string;
  baseUrl: string;
  permissionPolicy: string;
  permissions: Record<string, string>;
  sessionDir: string;
  /** extended thinking's token budget; 0 or unset: off */
  thinkingBudget?: number;
}

const CHANGING_KINDS = ['edit', 'delete', 'move', 'execute', 'fetch', 'other'];
const all = (d: PermissionDecision): Record<string, PermissionDecision> =>
  Object.fromEntries(CHANGING_KINDS.map((k) => [k, d]));

/** `agentLs.permissionPolicy` as the server's per-kind decisions (undefined: its defaults). */
export const PERMISSION_POLICIES: Record<string, Record<string, PermissionDecision> | undefined> = {
  default: undefined,
  askAll: all('ask'),
  allowAll: all('allow'),
  readOnly: all('deny'),
};

export function permissionMap(
  policy: string,
  overrides: Record<string, string>,
): Record<string, PermissionDecision> | undefined {
  const out: Record<string, PermissionDecision> = { ...(PERMISSION_POLICIES[policy] ?? {}) };
  for (const [k, v] of Object.entries(overrides ?? {})) {
    if (v === 'ask' || v === 'allow' || v === 'deny') out[k] = v;
  }
  return Object.keys(out).length ? out : undefined;
}

export interface ServerCommand {
  command: string;
  args: string[];
  /** which setting (or default) chose the command, for error messages */
  source: 'agentLs.serverPath' | 'agentLs.pythonPath' | 'workspace .venv' | 'default python3';
}

/** `~` and `${workspaceFolder}` in a configured path. */
export function expandPath(value: string, home: string, workspaceFolder: string | undefined): string {
  let v = value.trim();
  if (v === '~' || v.startsWith('~/')) v = path.join(home, v.slice(1));
  if (workspaceFolder) v = v.split('${workspaceFolder}').join(workspaceFolder);
  return v;
}

export function resolveServerCommand(
  settings: ServerSettings,
  opts: { home: string; workspaceFolder?: string; exists: (p: string) => boolean; platform?: string },
): ServerCommand {
  const expand = (v: string): string => expandPath(v, opts.home, opts.workspaceFolder);
  const extra = settings.serverArgs.map(expand);
  if (settings.serverPath.trim()) {
    return { command: expand(settings.serverPath), args: extra, source: 'agentLs.serverPath' };
  }
  const moduleArgs = ['-m', 'agent_ls', ...extra];
  if (settings.pythonPath.trim()) {
    return { command: expand(settings.pythonPath), args: moduleArgs, source: 'agentLs.pythonPath' };
  }
  if (opts.workspaceFolder) {
    const venv =
      opts.platform === 'win32'
        ? path.join(opts.workspaceFolder, '.venv', 'Scripts', 'python.exe')
        : path.join(opts.workspaceFolder, '.venv', 'bin', 'python');
    if (opts.exists(venv)) return { command: venv, args: moduleArgs, source: 'workspace .venv' };
  }
  return {
    command: opts.platform === 'win32' ? 'python' : 'python3',
    args: moduleArgs,
    source: 'default python3',
  };
}

/** The server's environment: the editor's, plus the API key and base URL when configured. */
export function serverEnv(
  base: NodeJS.ProcessEnv,
  opts: { apiKey?: string; baseUrl?: string },
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, PYTHONUNBUFFERED: '1' };
  if (opts.apiKey) env.ANTHROPIC_API_KEY = opts.apiKey;
  if (opts.baseUrl?.trim()) env.ANTHROPIC_BASE_URL = opts.baseUrl.trim();
  return env;
}

export function initializationOptions(settings: ServerSettings): InitializationOptions {
  const opts: InitializationOptions = { client: 'vscode', permissionUi: true };
  if (settings.model.trim()) opts.model = settings.model.trim();
  const permissions = permissionMap(settings.permissionPolicy.trim(), settings.permissions);
  if (permissions) opts.permissionPolicy = permissions;
  if (settings.sessionDir.trim()) opts.sessionDir = settings.sessionDir.trim();
  if (settings.thinkingBudget && settings.thinkingBudget >= 1024) opts.thinkingBudget = Math.floor(settings.thinkingBudget);
  return opts;
}

/** The message shown when the server cannot start: what failed, and how to fix it. */
export function startFailureMessage(cmd: ServerCommand, error: unknown): string {
  const detail = error instanceof Error ? error.message : String(error ?? 'unknown error');
  const line = [cmd.command, ...cmd.args].join(' ');
  const missing = /ENOENT|not found|No such file/i.test(detail);
  const noModule = /No module named|ModuleNotFoundError/i.test(detail);
  let fix: string;
  if (cmd.source === 'agentLs.serverPath') {
    fix = missing
      ? 'Fix: set "agentLs.serverPath" to the full path of the agent-ls executable (or clear it to use "agentLs.pythonPath").'
      : 'Fix: check that "agentLs.serverPath" runs the agent-ls server (see Agent: Show Server Log).';
  } else if (missing) {
    fix = `Fix: install Python 3.11+ with agent-ls (make setup in an agent-ls checkout creates .venv/bin/python; or pip install it), then set "agentLs.pythonPath" to that interpreter, or "agentLs.serverPath" to the agent-ls command.`;
  } else if (noModule) {
    fix = `Fix: install agent-ls into ${cmd.command} (${cmd.command} -m pip install <agent-ls checkout or package>), or set "agentLs.pythonPath" to an interpreter that has it.`;
  } else {
    fix = 'Fix: see Agent: Show Server Log for the server output; set "agentLs.pythonPath" or "agentLs.serverPath" if the wrong interpreter was used.';
  }
  return `Agent: the agent-ls server could not start (${line}): ${detail}. ${fix}`;
}
