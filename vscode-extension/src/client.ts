/**
 * The language client: starts agent-ls over stdio, exposes typed requests and the server's
 * notifications as events, answers permission requests and applies the agent's edits.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import * as vscode from 'vscode';
import {
  ApplyWorkspaceEditRequest,
  type ApplyWorkspaceEditParams,
  type ApplyWorkspaceEditResult,
  CloseAction,
  ErrorAction,
  LanguageClient,
  RevealOutputChannelOn,
  type LanguageClientOptions,
  type ServerOptions,
  State,
  TransportKind,
  WorkDoneProgress,
  type WorkDoneProgressBegin,
  type WorkDoneProgressEnd,
  type WorkDoneProgressReport,
} from 'vscode-languageclient/node';

import { CrashBudget } from './crashBudget';
import {
  type InitializationOptions,
  Method,
  type RequestPermissionParams,
  type RequestPermissionResult,
  type SessionUpdateParams,
} from './protocol';
import { type ServerCommand, startFailureMessage } from './serverCommand';

export type ProgressValue = WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd;

export type PermissionHandler = (
  params: RequestPermissionParams,
  token: vscode.CancellationToken,
) => Promise<RequestPermissionResult>;

/** Is `command` runnable: an existing file, or a name found on PATH. */
export function commandExists(command: string, env: NodeJS.ProcessEnv): boolean {
  if (command.includes('/') || command.includes('\\')) return fs.existsSync(command);
  const dirs = (env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const exts = process.platform === 'win32' ? ['', '.exe', '.cmd', '.bat'] : [''];
  return dirs.some((d) => exts.some((e) => fs.existsSync(path.join(d, command + e))));
}

/** When the server fails to start, run the command briefly to capture why (stderr). */
function diagnose(cmd: ServerCommand, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const args = cmd.source === 'agentLs.serverPath' ? ['--help'] : ['-c', 'import agent_ls'];
  return new Promise((resolve) => {
    let stderr = '';
    let done = false;
    const finish = (v: string | undefined): void => {
      if (!done) {
        done = true;
        resolve(v);
      }
    };
    try {
      const child = spawn(cmd.command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      child.on('error', (e) => finish(e.message));
      child.on('exit', (code) => {
        const lines = stderr.trim().split('\n');
        finish(code === 0 ? undefined : lines[lines.length - 1] || `exit code ${code}`);
      });
      setTimeout(() => {
        child.kill();
        finish(undefined);
      }, 5000);
    } catch (e) {
      finish(e instanceof Error ? e.message : String(e));
    }
  });
}

export class AgentClient implements vscode.Disposable {
  readonly output: vscode.OutputChannel;
  private client: LanguageClient | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly updateEmitter = new vscode.EventEmitter<SessionUpdateParams>();
  private readonly listChangedEmitter = new vscode.EventEmitter<void>();
  private readonly stateEmitter = new vscode.EventEmitter<{ running: boolean; error?: string }>();
  readonly onUpdate = this.updateEmitter.event;
  readonly onListChanged = this.listChangedEmitter.event;
  readonly onStateChange = this.stateEmitter.event;
  permissionHandler: PermissionHandler | undefined;
  saveAgentEdits = true;
  lastError: string | undefined;

  constructor() {
    this.output = vscode.window.createOutputChannel('Agent LS Server');
    this.disposables.push(this.output, this.updateEmitter, this.listChangedEmitter, this.stateEmitter);
  }

  get running(): boolean {
    return this.client?.state === State.Running;
  }

  async start(cmd: ServerCommand, env: NodeJS.ProcessEnv, init: InitializationOptions): Promise<boolean> {
    await this.stop();
    this.lastError = undefined;
    this.output.appendLine(`[agent-ls] starting: ${[cmd.command, ...cmd.args].join(' ')} (from ${cmd.source})`);
    if (!commandExists(cmd.command, env)) {
      return this.fail(cmd, new Error(`${cmd.command}: command not found (ENOENT)`));
    }
    const serverOptions: ServerOptions = {
      run: { command: cmd.command, args: cmd.args, transport: TransportKind.stdio, options: { env } },
      debug: { command: cmd.command, args: cmd.args, transport: TransportKind.stdio, options: { env } },
    };
    const crashes = new CrashBudget();
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
      outputChannel: this.output,
      traceOutputChannel: this.output,
      initializationOptions: init,
      // The agent may run for minutes; the server is not a per-language helper to hide.
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue }),
        closed: () => {
          const attempt = crashes.crashed(Date.now());
          if (attempt !== undefined) {
            this.output.appendLine(`[agent-ls] server exited; restarting (${attempt}/${crashes.limit})`);
            return { action: CloseAction.Restart, handled: true };
          }
          const message = 'Agent: the agent-ls server stopped repeatedly. See Agent: Show Server Log, then run Agent: Restart Server.';
          this.lastError = message;
          this.stateEmitter.fire({ running: false, error: message });
          return { action: CloseAction.DoNotRestart, message };
        },
      },
      initializationFailedHandler: () => false,
    };
    const client = new LanguageClient('agentLs', 'Agent LS', serverOptions, clientOptions);
    this.client = client;
    client.onNotification(Method.sessionUpdate, (p: SessionUpdateParams) => this.updateEmitter.fire(p));
    client.onNotification(Method.sessionListChanged, () => this.listChangedEmitter.fire());
    client.onRequest(Method.requestPermission, async (p: RequestPermissionParams, token: vscode.CancellationToken) => {
      if (!this.permissionHandler) return { outcome: { outcome: 'cancelled' } } satisfies RequestPermissionResult;
      return this.permissionHandler(p, token);
    });
    client.onRequest(ApplyWorkspaceEditRequest.type, (p) => this.applyEdit(client, p));
    this.disposables.push(
      client.onDidChangeState((e) => {
        if (this.client !== client) return;
        if (e.newState === State.Running) this.stateEmitter.fire({ running: true });
        else if (e.newState === State.Stopped) this.stateEmitter.fire({ running: false, error: this.lastError });
      }),
    );
    try {
      await client.start();
      this.output.appendLine('[agent-ls] server started');
      return true;
    } catch (err) {
      const why = await diagnose(cmd, env);
      return this.fail(cmd, why ? new Error(why) : err);
    }
  }

  private async fail(cmd: ServerCommand, err: unknown): Promise<false> {
    const message = startFailureMessage(cmd, err);
    this.lastError = message;
    this.output.appendLine(`[agent-ls] ${message}`);
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.dispose(2000);
      } catch {
        // already stopped
      }
    }
    this.stateEmitter.fire({ running: false, error: message });
    return false;
  }

  /** Apply the agent's edit like the default client would, then save what was clean before. */
  private async applyEdit(client: LanguageClient, params: ApplyWorkspaceEditParams): Promise<ApplyWorkspaceEditResult> {
    const edit = await client.protocol2CodeConverter.asWorkspaceEdit(params.edit);
    const touched = new Set<string>();
    for (const [uri] of edit.entries()) touched.add(uri.toString());
    for (const change of params.edit.documentChanges ?? []) {
      if ('textDocument' in change) touched.add(client.protocol2CodeConverter.asUri(change.textDocument.uri).toString());
      else if ('uri' in change) touched.add(client.protocol2CodeConverter.asUri(change.uri).toString());
      else if ('newUri' in change) touched.add(client.protocol2CodeConverter.asUri(change.newUri).toString());
    }
    const dirtyBefore = new Set(
      vscode.workspace.textDocuments.filter((d) => d.isDirty).map((d) => d.uri.toString()),
    );
    const applied = await vscode.workspace.applyEdit(edit);
    if (applied && this.saveAgentEdits) {
      for (const doc of vscode.workspace.textDocuments) {
        const key = doc.uri.toString();
        if (touched.has(key) && !dirtyBefore.has(key) && doc.isDirty) await doc.save();
      }
    }
    return { applied };
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client && client.state !== State.Stopped) {
      try {
        await client.stop(3000);
      } catch (e) {
        this.output.appendLine(`[agent-ls] stop: ${String(e)}`);
      }
    }
  }

  private ready(): LanguageClient {
    if (!this.client || this.client.state !== State.Running) {
      throw new Error(this.lastError ?? 'Agent: the agent-ls server is not running. Run Agent: Restart Server.');
    }
    return this.client;
  }

  request<R>(method: string, params: object, token?: vscode.CancellationToken): Promise<R> {
    // An explicit `undefined` token would be sent as a second positional parameter.
    const client = this.ready();
    return token ? client.sendRequest<R>(method, params, token) : client.sendRequest<R>(method, params);
  }

  notify(method: string, params: object): Promise<void> {
    return this.ready().sendNotification(method, params);
  }

  /** Follow `$/progress` on a token we created (the prompt's workDoneToken). */
  onProgress(token: string, handler: (value: ProgressValue) => void): vscode.Disposable {
    return this.ready().onProgress(WorkDoneProgress.type, token, handler);
  }

  dispose(): void {
    void this.stop();
    for (const d of this.disposables) d.dispose();
  }
}
