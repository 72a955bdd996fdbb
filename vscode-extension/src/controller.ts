/**
 * The extension's core: owns the chat state (built from the server), talks to the server through
 * the AgentClient, and backs the panel, the sessions tree, the status bar and every command.
 */
import * as os from 'node:os';
import * as fs from 'node:fs';
import * as path from 'node:path';

import * as vscode from 'vscode';

import { linesLabel, selectionLines } from './attachments';
import { type PromptImage, promptContent } from './images';
import { copyCode, insertCode } from './chatCode';
import { CheckpointDocuments, checkpointUri } from './checkpointDocs';
import { ReviewDocuments } from './reviewDocs';
import {
  editTags,
  exportSession as exportSessionTo,
  importSessions as importSessionsFrom,
  pickTagFilter,
  restoreFromTrash as restoreTrashed,
  searchSessions as searchAllSessions,
} from './sessionCommands';
import { AgentClient } from './client';
import type { ChatTarget, ChatViewProvider } from './chatView';
import { findMentionFiles } from './fileMentions';
import type { Attachment, PanelConfig, WebviewMessage } from './messages';
import {
  type Checkpoint,
  type CheckpointListResult,
  type ContextRef,
  type DiffFile,
  type DiffResult,
  ErrorKind,
  type ListResult,
  Method,
  type PermissionListResult,
  type PermissionRevokeResult,
  type PermissionRule,
  type PromptResult,
  type RequestPermissionParams,
  type RequestPermissionResult,
  type RestoreResult,
  type SessionInfo,
  type TranscriptPage,
  errorKind,
  errorMessage,
} from './protocol';
import { relativeTime } from './relativeTime';
import { SessionPager, withActive } from './sessionPager';
import { StableOrder } from './stableOrder';
import {
  type ServerSettings,
  initializationOptions,
  resolveServerCommand,
  serverEnv,
} from './serverCommand';
import type { SessionsTree } from './sessionsTree';
import {
  type ChatAction,
  type ChatState,
  type CheckpointBlock,
  type RewindScope,
  type RewindState,
  initialState,
  oldestEntryId,
  reduce,
  sessionLabel,
} from './transcript';

const SECRET_KEY = 'agentLs.anthropicApiKey';
const CRASHED_TURN =
  'The agent-ls server stopped during this turn and was restarted. What it had saved is shown above; the rest of the reply was lost. Agent: Show Server Log has the details.';
const LAST_SESSION_KEY = 'agentLs.lastSessionId';
/** The server's model when `agentLs.model` is empty (agent_ls/agent/config.py DEFAULT_MODEL). */
export const SERVER_DEFAULT_MODEL = 'claude-sonnet-4-6';
/** What the panel's model picker offers besides `agentLs.models` and the current setting. */
export const PICKER_MODELS = ['claude-sonnet-4-6', 'claude-opus-4-5', 'claude-sonnet-4-5', 'claude-haiku-4-5'];
/** The thinking budget the panel's toggle turns on (below the server's 8192 max tokens). */
export const THINKING_BUDGET = 4096;

type SessionArg = SessionInfo | string | undefined;

interface PendingPrompt {
  sessionId: string;
  token: string;
}

function readSettings(): ServerSettings & { apiKeySource: string; saveAgentEdits: boolean } {
  const c = vscode.workspace.getConfiguration('agentLs');
  return {
    serverPath: c.get<string>('serverPath', ''),
    serverArgs: c.get<string[]>('serverArgs', []),
    pythonPath: c.get<string>('pythonPath', ''),
    model: c.get<string>('model', ''),
    baseUrl: c.get<string>('baseUrl', ''),
    permissionPolicy: c.get<string>('permissionPolicy', 'default'),
    permissions: c.get<Record<string, string>>('permissions', {}),
    sessionDir: c.get<string>('sessionDir', ''),
    apiKeySource: c.get<string>('apiKeySource', 'env'),
    saveAgentEdits: c.get<boolean>('saveAgentEdits', true),
    thinkingBudget: c.get<number>('thinkingBudget', 0),
  };
}

/** The panel's model picker and thinking toggle, from the settings. */
export function panelConfig(): PanelConfig {
  const c = vscode.workspace.getConfiguration('agentLs');
  const model = c.get<string>('model', '').trim();
  const extra = c.get<string[]>('models', []).filter((m) => typeof m === 'string' && m.trim());
  return {
    model,
    models: [...new Set([...extra.map((m) => m.trim()), ...PICKER_MODELS])],
    defaultModel: SERVER_DEFAULT_MODEL,
    thinking: c.get<number>('thinkingBudget', 0) > 0,
  };
}

/** Attached files and selections as the prompt's context, and their chips. */
export function attachmentContext(attachments: Attachment[]): { context: ContextRef[]; labels: string[] } {
  return {
    context: attachments.map((a) => (a.range ? { uri: a.uri, range: a.range } : { uri: a.uri })),
    labels: attachments.map((a) => a.label),
  };
}

/** A selection as prompt context and its chip (`path:3-5`, 1-based, a trailing empty line left out). */
function selectionRef(uri: vscode.Uri, range: vscode.Range): { context: ContextRef[]; labels: string[] } {
  // The server reads the same lines from the range (a selection ending at column 0 ends the line before).
  return {
    context: [
      {
        uri: uri.toString(),
        range: {
          start: { line: range.start.line, character: range.start.character },
          end: { line: range.end.line, character: range.end.character },
        },
      },
    ],
    labels: [linesLabel(vscode.workspace.asRelativePath(uri), selectionLines(range.start, range.end))],
  };
}

function clipText(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}

/** "Fork of …": a fork is told apart from its parent in every list. */
export function forkName(parent: SessionInfo | undefined): string {
  return `Fork of ${sessionLabel(parent)}`.slice(0, 200);
}

/**
 * The modal asked when the panel cannot be: the safe answer (reject) first, which a modal makes
 * the Enter default, then allow once, then the remembered answers; the whole command in the detail.
 */
export function permissionModal(params: RequestPermissionParams): {
  message: string;
  detail: string | undefined;
  options: RequestPermissionParams['options'];
} {
  const rank = (kind: string): number => ['reject_once', 'allow_once', 'allow_always', 'reject_always'].indexOf(kind) >>> 0;
  const options = [...params.options].sort((a, b) => rank(a.kind) - rank(b.kind));
  const tc = params.toolCall ?? {};
  const command = (tc as { rawInput?: { command?: unknown } }).rawInput?.command;
  const title = String(tc.title ?? 'The agent wants to use a tool').replace(/`/g, '');
  if (typeof command === 'string' && command) {
    return { message: 'Agent: allow this command?', detail: command, options };
  }
  return { message: `Agent: allow "${title}"?`, detail: undefined, options };
}

export class AgentController implements vscode.Disposable {
  state: ChatState = initialState();
  readonly client = new AgentClient();
  readonly docs: CheckpointDocuments;
  /** edits under review, shown in the diff editor */
  readonly review = new ReviewDocuments();
  private readonly status: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private pending: PendingPrompt | undefined;
  private promptSeq = 0;
  private readonly permissionWaiters = new Map<string, (r: RequestPermissionResult) => void>();
  private permissionSeq = 0;
  private listTimer: ReturnType<typeof setTimeout> | undefined;
  private starting: Promise<void> | undefined;
  private runningContext: boolean | undefined;
  /** the selection chip the panel shows now */
  private postedSelection: string | undefined;
  /** the session whose turn the server's crash interrupted, until the panel says so */
  private crashedTurn: string | undefined;
  /** the sessions shown in the tree and the header dropdown: pages of the server's list */
  private readonly sessionPages = new SessionPager((p) => this.client.request<ListResult>(Method.sessionList, p));
  /** an edit waiting for its files' rewind (when that rewind has a plan to answer first) */
  private heldEdit: { entryId: string; text: string; context: ContextRef[]; labels: string[]; images: PromptImage[] } | undefined;
  /** renamed sessions keep their place in the lists (the server's rename bumps modifiedAt) */
  private readonly order = new StableOrder();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly chat: ChatViewProvider,
    private readonly tree: SessionsTree,
  ) {
    this.docs = new CheckpointDocuments((checkpointId) =>
      this.client.request<DiffResult>(Method.checkpointDiff, { checkpointId }),
    );
    this.status = vscode.window.createStatusBarItem('agentLs.status', vscode.StatusBarAlignment.Left, 50);
    this.status.name = 'Agent session';
    this.status.command = 'agentLs.switchSession';
    this.status.show();
    this.disposables.push(
      this.status,
      this.client,
      this.client.onUpdate((params) => this.dispatch({ type: 'update', params })),
      this.client.onListChanged(() => this.scheduleListRefresh()),
      this.client.onStateChange((e) => {
        if (!e.running && this.state.connection === 'ready') {
          if (this.pending) this.crashedTurn = this.pending.sessionId;
          this.dispatch({ type: 'connection', status: e.error ? 'failed' : 'stopped', error: e.error });
        } else if (e.running && !this.starting && (this.state.connection !== 'ready' || this.crashedTurn)) {
          // The client restarted a crashed server by itself: pick the session up again, with
          // what the server saved of an interrupted turn, and say what happened.
          this.dispatch({ type: 'connection', status: 'ready' });
          void this.restoreSession().then(() => this.noticeCrashedTurn());
        }
      }),
    );
    this.disposables.push(
      vscode.window.onDidChangeTextEditorSelection(() => this.postEditorSelection()),
      vscode.window.onDidChangeActiveTextEditor(() => this.postEditorSelection()),
    );
    this.client.permissionHandler = (params, token) => this.askPermission(params, token);
    this.renderStatus();
  }

  // -------------------------------------------------------------------------------------------
  // State

  dispatch(action: ChatAction): void {
    this.state = reduce(this.state, action);
    this.chat.post({ type: 'action', action });
    if (action.type === 'reset' || action.type === 'sessions' || action.type === 'sessionInfo') this.renderTree();
    this.renderStatus();
  }

  private renderTree(): void {
    this.tree.set(this.state.sessions, this.state.session?.sessionId, this.pending?.sessionId, !!this.sessionPages.nextCursor);
  }

  private renderStatus(): void {
    const s = this.state;
    if (this.runningContext !== !!this.pending) {
      this.runningContext = !!this.pending;
      void vscode.commands.executeCommand('setContext', 'agentLs.running', this.runningContext);
    }
    if (s.connection === 'starting') {
      this.status.text = '$(loading~spin) Agent: starting';
      this.status.tooltip = 'Starting the agent-ls server';
    } else if (s.connection !== 'ready') {
      this.status.text = '$(error) Agent: stopped';
      this.status.tooltip = s.connectionError ?? 'The agent-ls server is not running';
      this.status.command = 'agentLs.restartServer';
      return;
    } else if (this.pending) {
      this.status.text = `$(loading~spin) ${sessionLabel(s.session)}${s.progress ? `: ${s.progress}` : ''}`;
      this.status.tooltip = 'The agent is working. Click to switch session; Agent: Cancel stops it.';
    } else {
      this.status.text = `$(comment-discussion) ${sessionLabel(s.session)}`;
      this.status.tooltip = 'Agent session. Click to switch session.';
    }
    this.status.command = 'agentLs.switchSession';
  }

  /** The panel's selection chip follows the editor; sending attaches it only if the chip is on. */
  private postEditorSelection(): void {
    const sel = this.selectionContext();
    const label = sel.labels[0];
    if (label === this.postedSelection) return;
    this.postedSelection = label;
    this.chat.post({ type: 'editorSelection', label });
  }

  onWebviewReady(from?: ChatTarget): void {
    this.postedSelection = undefined;
    // The webview starts empty: it gets the whole state, restored from the server, each time.
    const snapshot = { type: 'action', action: { type: 'snapshot', state: this.state } } as const;
    if (from) this.chat.postTo(from, snapshot);
    else this.chat.post(snapshot);
    this.chat.post({ type: 'config', config: panelConfig() });
    this.postEditorSelection();
  }

  /** The settings changed: the panel's picker and toggle show the new values. */
  postConfig(): void {
    this.chat.post({ type: 'config', config: panelConfig() });
  }

  /**
   * The panel's model picker. The server reads its model once, from initializationOptions, so
   * the setting changes and the configuration watcher restarts the server with it.
   */
  async setModel(model: string): Promise<void> {
    let value = model;
    if (model === 'agent-ls:other-model') {
      const typed = await vscode.window.showInputBox({
        prompt: 'Model name (an Anthropic model, or a local one served through agentLs.baseUrl)',
        value: panelConfig().model,
      });
      if (typed === undefined) return;
      value = typed.trim();
    }
    if (value === panelConfig().model) return;
    await this.updateSetting('model', value);
  }

  /** The panel's thinking toggle: `agentLs.thinkingBudget` on or off (the server restarts with it). */
  async setThinking(on: boolean): Promise<void> {
    await this.updateSetting('thinkingBudget', on ? THINKING_BUDGET : 0);
  }

  /** Where the user set it (a folder's settings win), else User settings. */
  private async updateSetting(key: string, value: unknown): Promise<void> {
    const config = vscode.workspace.getConfiguration('agentLs');
    const inspect = config.inspect?.(key);
    const target = inspect?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    await config.update(key, value, target);
  }

  /** `@` in the prompt box: the matching workspace files, to the page that asked. */
  async mentionQuery(id: number, query: string, from?: ChatTarget): Promise<void> {
    let files: Attachment[] = [];
    try {
      files = await findMentionFiles(query);
    } catch (e) {
      this.client.output.appendLine(`[agent-ls] file search failed: ${errorMessage(e)}`);
    }
    const message = { type: 'mentionResults', id, files } as const;
    if (from) this.chat.postTo(from, message);
    else this.chat.post(message);
  }

  /** Agent: Add Selection to Chat — the selection as a chip in the prompt box, which takes the focus. */
  async addSelectionToChat(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.selection.isEmpty) {
      void vscode.window.showInformationMessage('Agent: select some code first.');
      return;
    }
    const ref = selectionRef(editor.document.uri, editor.selection);
    const attachment: Attachment = { label: ref.labels[0], uri: ref.context[0].uri, range: ref.context[0].range };
    await this.chat.reveal(true);
    this.chat.post({ type: 'attach', attachment });
  }

  // -------------------------------------------------------------------------------------------
  // Server lifecycle

  start(): Promise<void> {
    this.starting ??= this.doStart().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    this.dispatch({ type: 'connection', status: 'starting' });
    const settings = readSettings();
    this.client.saveAgentEdits = settings.saveAgentEdits;
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const cmd = resolveServerCommand(settings, {
      home: os.homedir(),
      workspaceFolder: folder,
      exists: (p) => fs.existsSync(p),
      platform: process.platform,
    });
    let apiKey: string | undefined;
    if (settings.apiKeySource === 'secretStorage') {
      apiKey = await this.context.secrets.get(SECRET_KEY);
      if (!apiKey) {
        void vscode.window
          .showWarningMessage('Agent: no API key is stored yet ("agentLs.apiKeySource" is secretStorage).', 'Set API Key')
          .then((pick) => pick && vscode.commands.executeCommand('agentLs.setApiKey'));
      }
    }
    const env = serverEnv(process.env, { apiKey, baseUrl: settings.baseUrl });
    const ok = await this.client.start(cmd, env, initializationOptions(settings));
    if (!ok) {
      const message = this.client.lastError ?? 'Agent: the agent-ls server could not start.';
      this.dispatch({ type: 'connection', status: 'failed', error: message });
      void vscode.window.showErrorMessage(message, 'Open Settings', 'Show Server Log').then((pick) => {
        if (pick === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'agentLs');
        if (pick === 'Show Server Log') this.client.output.show(true);
      });
      return;
    }
    this.dispatch({ type: 'connection', status: 'ready' });
    await this.restoreSession();
  }

  async restart(): Promise<void> {
    await this.start();
  }

  /** After a (re)load: this window's last session, else the most recent one (or a new one). */
  private async restoreSession(): Promise<void> {
    const last = this.context.workspaceState.get<string>(LAST_SESSION_KEY);
    try {
      let page: TranscriptPage | undefined;
      if (last) {
        try {
          page = await this.client.request<TranscriptPage>(Method.sessionSwitch, { sessionId: last });
        } catch (e) {
          if (errorKind(e) !== ErrorKind.sessionNotFound) throw e;
        }
      }
      page ??= await this.client.request<TranscriptPage>(Method.sessionResumeRecent, {});
      this.showPage(page);
    } catch (e) {
      this.error('Could not restore the session', e);
    }
    await this.refreshSessions();
  }

  private noticeCrashedTurn(): void {
    const crashed = this.crashedTurn;
    this.crashedTurn = undefined;
    if (!crashed || this.state.session?.sessionId !== crashed) return;
    this.dispatch({ type: 'notice', level: 'warning', text: CRASHED_TURN });
  }

  private showPage(page: TranscriptPage, focusEntryId?: string): void {
    this.dispatch({ type: 'reset', page, running: this.pending?.sessionId === page.session.sessionId, focusEntryId });
    void this.context.workspaceState.update(LAST_SESSION_KEY, page.session.sessionId);
  }

  async refreshSessions(): Promise<void> {
    if (!this.client.running) return;
    try {
      if (await this.sessionPages.refresh()) this.showSessions();
    } catch (e) {
      this.client.output.appendLine(`[agent-ls] list failed: ${errorMessage(e)}`);
    }
  }

  /** The next page of sessions in the tree and the header dropdown. */
  async loadMoreSessions(): Promise<void> {
    if (!this.client.running) return;
    try {
      if (await this.sessionPages.more()) this.showSessions();
    } catch (e) {
      this.error('Loading more sessions failed', e);
    }
  }

  private showSessions(): void {
    this.dispatch({ type: 'sessions', sessions: this.order.apply(withActive(this.sessionPages.sessions, this.state.session)) });
  }

  private scheduleListRefresh(): void {
    if (this.listTimer) clearTimeout(this.listTimer);
    this.listTimer = setTimeout(() => {
      this.listTimer = undefined;
      void this.refreshSessions();
    }, 150);
  }

  private error(what: string, e: unknown): void {
    const message = `Agent: ${what}: ${errorMessage(e)}`;
    this.client.output.appendLine(`[agent-ls] ${message}`);
    void vscode.window.showErrorMessage(message);
  }

  /** Is the server up (waiting for a start in progress)? If not, say so and offer the fixes. */
  private async requireServer(): Promise<boolean> {
    if (this.starting) await this.starting;
    if (this.client.running) return true;
    const message = this.state.connectionError ?? 'Agent: the agent-ls server is not running.';
    void vscode.window.showErrorMessage(message, 'Restart Server', 'Show Server Log').then((pick) => {
      if (pick === 'Restart Server') void this.restart();
      if (pick === 'Show Server Log') this.client.output.show(true);
    });
    return false;
  }

  // -------------------------------------------------------------------------------------------
  // Sessions

  private async sessionIdOf(arg: SessionArg, placeHolder: string): Promise<string | undefined> {
    if (typeof arg === 'string') return arg;
    if (arg && typeof arg === 'object' && 'sessionId' in arg) return arg.sessionId;
    if (this.state.session) return this.state.session.sessionId;
    return this.pickSession(placeHolder);
  }

  private infoOf(sessionId: string): SessionInfo | undefined {
    return this.state.sessions.find((s) => s.sessionId === sessionId) ??
      (this.state.session?.sessionId === sessionId ? this.state.session : undefined);
  }

  async newSession(name?: string): Promise<void> {
    if (!(await this.requireServer())) return;
    try {
      const info = await this.client.request<SessionInfo>(Method.sessionNew, name ? { name } : {});
      this.showPage({ session: info, items: [], hasMore: false });
      await this.refreshSessions();
      await this.chat.reveal(true);
    } catch (e) {
      this.error('New session failed', e);
    }
  }

  async switchSession(sessionId: string, focusEntryId?: string): Promise<void> {
    if (!(await this.requireServer())) return;
    try {
      const params: Record<string, unknown> = focusEntryId ? { sessionId, focusEntryId } : { sessionId };
      const page = await this.client.request<TranscriptPage & { focusEntryId?: string }>(Method.sessionSwitch, params);
      this.showPage(page, page.focusEntryId ?? focusEntryId);
      await this.refreshSessions();
    } catch (e) {
      this.error('Switch session failed', e);
      await this.refreshSessions();
    }
  }

  /**
   * Switch Session's picker: the newest sessions first, a search over all of them as the user
   * types (the server's `query`), "Load more" for the next page, and the active one always listed.
   */
  async pickSession(placeHolder = 'Switch to session (type to search all sessions)'): Promise<string | undefined> {
    if (!(await this.requireServer())) return undefined;
    type Item = vscode.QuickPickItem & { sessionId?: string; create?: boolean; more?: boolean };
    const pager = new SessionPager((p) => this.client.request<ListResult>(Method.sessionList, p), 50);
    const qp = vscode.window.createQuickPick<Item>();
    qp.placeholder = placeHolder;
    qp.matchOnDescription = true;
    qp.matchOnDetail = true;
    const activeId = this.state.session?.sessionId;
    const show = (): void => {
      const items: Item[] = [{ label: '$(add) New Session', create: true, alwaysShow: true }];
      const sessions = pager.query ? pager.sessions : withActive(pager.sessions, this.state.session);
      for (const s of sessions) {
        const active = s.sessionId === activeId;
        items.push({
          label: `${active ? '$(comment-discussion)' : '$(comment)'} ${sessionLabel(s)}`,
          description: `${relativeTime(s.modifiedAt)} · ${s.messageCount} msg${active ? ' · active' : ''}`,
          detail: s.name && s.firstMessage ? s.firstMessage.replace(/\s+/g, ' ').slice(0, 160) : undefined,
          // The server matched it (name or any message): the picker's own filter must not hide it.
          alwaysShow: true,
          sessionId: s.sessionId,
        });
      }
      if (pager.nextCursor) items.push({ label: '$(more) Load more sessions…', more: true, alwaysShow: true });
      qp.items = items;
    };
    const load = async (step: () => Promise<boolean>): Promise<void> => {
      qp.busy = true;
      try {
        if (await step()) show();
      } catch (e) {
        this.error('Listing sessions failed', e);
      } finally {
        qp.busy = false;
      }
    };
    let typing: ReturnType<typeof setTimeout> | undefined;
    const picked = new Promise<Item | undefined>((resolve) => {
      qp.onDidChangeValue((value) => {
        if (typing) clearTimeout(typing);
        typing = setTimeout(() => void load(() => pager.search(value)), 150);
      });
      qp.onDidAccept(() => {
        const item = qp.selectedItems[0];
        if (item?.more) {
          void load(() => pager.more());
          return;
        }
        resolve(item);
        qp.hide();
      });
      qp.onDidHide(() => resolve(undefined));
    });
    qp.show();
    await load(() => pager.search(''));
    const pick = await picked;
    if (typing) clearTimeout(typing);
    qp.dispose();
    if (!pick) return undefined;
    if (pick.create) {
      await this.newSession();
      return undefined;
    }
    return pick.sessionId;
  }

  async switchSessionCommand(arg?: SessionArg): Promise<void> {
    const id = typeof arg === 'string' ? arg : arg?.sessionId ?? (await this.pickSession());
    if (id) {
      await this.switchSession(id);
      await this.chat.reveal();
    }
  }

  async renameSession(arg?: SessionArg): Promise<void> {
    if (!(await this.requireServer())) return;
    const id = await this.sessionIdOf(arg, 'Session to rename');
    if (!id) return;
    const current = this.infoOf(id);
    const name = await vscode.window.showInputBox({
      prompt: 'New session name',
      value: current?.name ?? sessionLabel(current),
      validateInput: (v) => (v.trim() && v.trim().length <= 200 ? undefined : 'Between 1 and 200 characters'),
    });
    if (!name) return;
    try {
      const info = await this.client.request<SessionInfo>(Method.sessionRename, { sessionId: id, name: name.trim() });
      this.dispatch({ type: 'sessionInfo', session: this.order.keep(current, info) });
      await this.refreshSessions();
    } catch (e) {
      this.error('Rename failed', e);
    }
  }

  async deleteSession(arg?: SessionArg): Promise<void> {
    if (!(await this.requireServer())) return;
    const id = await this.sessionIdOf(arg, 'Session to delete');
    if (!id) return;
    const label = sessionLabel(this.infoOf(id));
    const ok = await vscode.window.showWarningMessage(
      `Delete session "${label}"?`,
      { modal: true, detail: 'It is moved to the session store\'s trash ("agent-ls sessions purge" empties it).' },
      'Delete',
    );
    if (ok !== 'Delete') return;
    try {
      await this.client.request(Method.sessionDelete, { sessionId: id });
      if (this.state.session?.sessionId === id) {
        await this.context.workspaceState.update(LAST_SESSION_KEY, undefined);
        const page = await this.client.request<TranscriptPage>(Method.sessionResumeRecent, {});
        this.showPage(page);
      }
      await this.refreshSessions();
    } catch (e) {
      this.error('Delete failed', e);
    }
  }

  async forkSession(arg?: SessionArg): Promise<void> {
    if (!(await this.requireServer())) return;
    const id = await this.sessionIdOf(arg, 'Session to fork');
    if (!id) return;
    try {
      let info = await this.client.request<SessionInfo>(Method.sessionFork, { sessionId: id });
      const parent = this.infoOf(id);
      if (!info.name?.startsWith('Fork of ')) {
        // The server copies the parent's name (or none): name the fork after its origin here.
        const name = forkName(parent?.name ? parent : info.name ? info : parent);
        info = await this.client.request<SessionInfo>(Method.sessionRename, { sessionId: info.sessionId, name });
      }
      await this.switchSession(info.sessionId);
      await this.chat.reveal();
      void vscode.window.showInformationMessage(`Agent: forked "${sessionLabel(this.infoOf(id))}" into a new session.`);
    } catch (e) {
      this.error('Fork failed', e);
    }
  }

  async loadMore(): Promise<void> {
    const session = this.state.session;
    const before = oldestEntryId(this.state.blocks);
    if (!session || !before || !this.state.hasMore) return;
    try {
      const page = await this.client.request<{ items: TranscriptPage['items']; hasMore: boolean }>(Method.sessionHistory, {
        sessionId: session.sessionId,
        before,
      });
      this.dispatch({ type: 'prepend', sessionId: session.sessionId, items: page.items, hasMore: page.hasMore });
    } catch (e) {
      this.error('Loading earlier messages failed', e);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Prompting

  async prompt(
    text: string,
    context: ContextRef[] = [],
    labels: string[] = [],
    turn: { method?: string; replaceEntryId?: string; images?: PromptImage[] } = {},
  ): Promise<void> {
    if (!(await this.requireServer())) {
      // Not sent: the text goes back into the prompt box, so nothing typed is lost.
      this.chat.post(turn.images?.length ? { type: 'focusPrompt', text, images: turn.images } : { type: 'focusPrompt', text });
      void vscode.window.showWarningMessage('Agent: the prompt was not sent (the server is not running); it is back in the chat box.');
      return;
    }
    if (this.pending) {
      void vscode.window.showWarningMessage('Agent: the agent is still working. Cancel it first (Agent: Cancel).');
      return;
    }
    if (!this.state.session) {
      await this.newSession();
      if (!this.state.session) return;
    }
    const sessionId = (this.state.session as SessionInfo).sessionId;
    this.promptSeq += 1;
    const token = `agent-ls-prompt-${Date.now()}-${this.promptSeq}`;
    this.pending = { sessionId, token };
    this.dispatch({ type: 'promptStarted', text, context: labels, images: turn.images });
    this.renderTree();
    const progress = this.client.onProgress(token, (value) => {
      if (this.state.session?.sessionId !== sessionId) return;
      if (value.kind === 'end') this.dispatch({ type: 'progress', message: undefined });
      else if (value.message || value.kind === 'begin') {
        this.dispatch({ type: 'progress', message: value.message ?? (value.kind === 'begin' ? value.title : undefined) });
      }
    });
    let result: PromptResult | undefined;
    let failure: string | undefined;
    try {
      const retry = turn.method === Method.sessionRetry;
      const params: Record<string, unknown> = retry
        ? { sessionId, workDoneToken: token }
        : { sessionId, prompt: promptContent(text, turn.images ?? []), workDoneToken: token };
      if (context.length && !retry) params.context = context;
      if (turn.replaceEntryId) params.replaceEntryId = turn.replaceEntryId;
      result = await this.client.request<PromptResult>(turn.method ?? Method.sessionPrompt, params);
    } catch (e) {
      if (this.crashedTurn === sessionId || !this.client.running) {
        this.crashedTurn = sessionId;
        failure = CRASHED_TURN;
      } else {
        failure = this.promptFailure(e);
      }
    } finally {
      progress.dispose();
      this.pending = undefined;
    }
    if (this.state.session?.sessionId === sessionId) {
      this.dispatch({ type: 'promptEnded', result, error: failure });
    } else {
      this.renderStatus();
    }
    if (this.crashedTurn && this.client.running && this.state.connection === 'ready' && !this.starting) {
      // Already restarted: show what the server saved of the turn.
      await this.restoreSession();
      this.noticeCrashedTurn();
    } else if ((turn.method === Method.sessionRetry || turn.replaceEntryId) && this.state.session?.sessionId === sessionId && result) {
      // The failed or edited turn is a branch now: show the conversation as it stands.
      await this.reloadSession();
    }
    this.renderTree();
    await this.refreshSessions();
  }

  /** The active session's page again (after the conversation moved), keeping the panel's notices. */
  private async reloadSession(focusEntryId?: string): Promise<void> {
    const session = this.state.session;
    if (!session) return;
    try {
      const page = await this.client.request<TranscriptPage>(Method.sessionSwitch, { sessionId: session.sessionId });
      this.dispatch({ type: 'reset', page, running: !!this.pending, focusEntryId });
    } catch (e) {
      this.error('Could not reload the session', e);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Turn controls: retry, edit and resend, rewind

  /** Retry on a failed or cancelled turn: the server resends that turn's prompt. */
  async retryTurn(): Promise<void> {
    const last = [...this.state.blocks].reverse().find((b) => b.type === 'user');
    const user = last && last.type === 'user' ? last : undefined;
    await this.prompt(user?.text ?? '', [], user?.context ?? [], { method: Method.sessionRetry, images: user?.images });
  }

  /**
   * Edit and resend: the conversation goes back to before that message (the old turn stays as a
   * branch) and the new text is sent; with `revertFiles`, the files the later turns changed are
   * put back first (a conflict shows the plan and waits for the user's choice).
   */
  async editAndResend(
    entryId: string,
    text: string,
    context: ContextRef[],
    labels: string[],
    revertFiles: boolean,
    images: PromptImage[] = [],
  ): Promise<void> {
    if (revertFiles) {
      this.heldEdit = { entryId, text, context, labels, images };
      await this.rewind(entryId, 'files');
      return;
    }
    this.dispatch({ type: 'truncate', entryId });
    await this.prompt(text, context, labels, { replaceEntryId: entryId, images });
  }

  /** Rewind to before a user message (`mode` answers a plan that had conflicts). */
  async rewind(entryId: string, scope: RewindScope, mode?: 'partial' | 'force'): Promise<void> {
    const session = this.state.session;
    if (!session || !(await this.requireServer())) return;
    if (this.pending) {
      void vscode.window.showWarningMessage('Agent: the agent is still working. Cancel it first (Agent: Cancel).');
      return;
    }
    const message = this.state.blocks.find((b) => b.type === 'user' && b.entryId === entryId);
    const label = clipText(message && message.type === 'user' ? message.text : entryId, 60);
    const base: RewindState = { entryId, scope, label, status: 'running' };
    this.dispatch({ type: 'rewind', rewind: base });
    let result: RestoreResult;
    try {
      const params: Record<string, unknown> = { sessionId: session.sessionId, entryId, scope };
      if (mode) params[mode] = true;
      result = await this.client.request<RestoreResult>(Method.sessionRewind, params);
    } catch (e) {
      this.heldEdit = undefined;
      this.dispatch({ type: 'rewind', rewind: { ...base, status: 'error', error: errorMessage(e) } });
      return;
    }
    if (!result.applied && result.files.some((f) => f.result === 'conflict')) {
      // All or nothing: nothing was written. The plan waits for the user's choice.
      this.dispatch({ type: 'rewind', rewind: { ...base, status: 'plan', result } });
      return;
    }
    const held = this.heldEdit?.entryId === entryId ? this.heldEdit : undefined;
    this.heldEdit = undefined;
    if (held) {
      this.dispatch({ type: 'rewind', rewind: undefined });
      this.dispatch({ type: 'truncate', entryId });
      await this.prompt(held.text, held.context, held.labels, { replaceEntryId: entryId, images: held.images });
      return;
    }
    if (scope !== 'files') await this.reloadSession();
    this.dispatch({ type: 'rewind', rewind: { ...base, status: 'done', result } });
    await this.refreshSessions();
  }

  /** Undo a rewind: its undo checkpoint puts back every file (and the conversation). */
  async undoRewind(): Promise<void> {
    const r = this.state.rewind;
    const undo = r?.result?.undoCheckpointId;
    if (!r || !undo || !(await this.requireServer())) return;
    this.dispatch({ type: 'rewind', rewind: { ...r, status: 'running' } });
    try {
      const back = await this.client.request<RestoreResult>(Method.checkpointRestore, { checkpointId: undo, scope: r.scope === 'files' ? 'files' : 'both' });
      const conflicts = back.files.filter((f) => f.result === 'conflict');
      if (!back.applied && conflicts.length) {
        const names = conflicts.map((f) => f.path ?? f.uri).join(', ');
        throw new Error(`${names} changed since the rewind; nothing was put back (Show Checkpoints can restore the undo point with Revert anyway)`);
      }
    } catch (e) {
      this.dispatch({ type: 'rewind', rewind: { ...r, status: 'error', error: errorMessage(e) } });
      return;
    }
    if (r.scope !== 'files') await this.reloadSession();
    this.dispatch({ type: 'rewind', rewind: { ...r, status: 'undone' } });
    await this.refreshSessions();
  }

  dismissRewind(): void {
    const held = this.heldEdit;
    this.heldEdit = undefined;
    this.dispatch({ type: 'rewind', rewind: undefined });
    // An edit waiting for the files goes back into the prompt box, not lost.
    if (held) this.chat.post({ type: 'focusPrompt', text: held.text });
  }

  private promptFailure(e: unknown): string {
    const message = errorMessage(e);
    if (errorKind(e) === ErrorKind.sessionBusy) return `${message}. Another window is using this session: fork it to continue here.`;
    return message;
  }

  async cancel(): Promise<void> {
    const pending = this.pending;
    if (!pending) {
      void vscode.window.showInformationMessage('Agent: nothing is running to cancel.');
      return;
    }
    try {
      await this.client.notify(Method.sessionCancel, { sessionId: pending.sessionId });
    } catch (e) {
      this.error('Cancel failed', e);
    }
  }

  /** The active editor's selection as prompt context (and a short label for the panel). */
  selectionContext(): { context: ContextRef[]; labels: string[]; text: string } {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.selection.isEmpty) return { context: [], labels: [], text: '' };
    const sel = editor.selection;
    return {
      ...selectionRef(editor.document.uri, sel),
      text: editor.document.getText(sel),
    };
  }

  /** Agent: Prompt sends the text alone; Ask About Selection is how a selection goes along. */
  async promptCommand(text?: string): Promise<void> {
    const prompt =
      text ??
      (await vscode.window.showInputBox({
        prompt: 'Prompt the agent (to include the selection, use Agent: Ask About Selection)',
        placeHolder: 'What should the agent do?',
      }));
    if (!prompt?.trim()) return;
    await this.chat.reveal();
    await this.prompt(prompt);
  }

  async askAboutSelection(uri?: vscode.Uri, range?: vscode.Range): Promise<void> {
    let sel = this.selectionContext();
    if (uri && range && !range.isEmpty) sel = { ...selectionRef(uri, range), text: '' };
    if (!sel.context.length) {
      void vscode.window.showInformationMessage('Agent: select some code first.');
      return;
    }
    const question = await vscode.window.showInputBox({
      prompt: `Ask the agent about ${sel.labels[0]}`,
      value: 'Explain this code.',
    });
    if (!question?.trim()) return;
    await this.chat.reveal();
    await this.prompt(question, sel.context, sel.labels);
  }

  // -------------------------------------------------------------------------------------------
  // Permissions

  private async askPermission(
    params: RequestPermissionParams,
    token: vscode.CancellationToken,
  ): Promise<RequestPermissionResult> {
    const cancelled: RequestPermissionResult = { outcome: { outcome: 'cancelled' } };
    if (!params.options?.length) return cancelled;
    if (!this.chat.visible) {
      await this.chat.reveal();
      await this.chat.whenReady(3000);
    }
    if (!this.chat.visible || this.state.session?.sessionId !== params.sessionId) {
      // No panel to ask in: a modal dialog with the same choices.
      const { message, detail, options } = permissionModal(params);
      const pick = await vscode.window.showWarningMessage(message, { modal: true, detail }, ...options.map((o) => o.name));
      const option = params.options.find((o) => o.name === pick);
      return option ? { outcome: { outcome: 'selected', optionId: option.optionId } } : cancelled;
    }
    this.permissionSeq += 1;
    const requestId = `perm-${this.permissionSeq}`;
    const reviewing = this.review.add(requestId, params.toolCall?.content);
    return new Promise<RequestPermissionResult>((resolve) => {
      const finish = (r: RequestPermissionResult): void => {
        if (!this.permissionWaiters.has(requestId)) return;
        this.permissionWaiters.delete(requestId);
        sub.dispose();
        this.dispatch({ type: 'permissionResolved', requestId });
        if (reviewing) void this.review.drop(requestId);
        resolve(r);
      };
      const sub = token.onCancellationRequested(() => finish(cancelled));
      this.permissionWaiters.set(requestId, finish);
      this.dispatch({ type: 'permissionRequest', requestId, params });
      // An edit under review opens in the diff editor, with Accept / Reject in its title bar.
      if (reviewing) void this.review.show(requestId);
    });
  }

  answerPermission(requestId: string, optionId: string | undefined): void {
    const finish = this.permissionWaiters.get(requestId);
    if (!finish) return;
    const asked = this.state.permissions.find((p) => p.requestId === requestId);
    const option = asked?.options.find((o) => o.optionId === optionId);
    if (asked && option?.kind.endsWith('_always')) {
      const what = asked.detail ? `\`${asked.detail}\`` : asked.title;
      const verb = option.kind.startsWith('allow') ? 'allow' : 'reject';
      this.dispatch({
        type: 'notice',
        level: 'info',
        text: `Remembered for this session: always ${verb} ${what}. Agent: Manage Permissions lists and revokes it.`,
      });
    }
    finish(optionId ? { outcome: { outcome: 'selected', optionId } } : { outcome: { outcome: 'cancelled' } });
  }

  /**
   * Accept or Reject from the diff editor's title bar: answers the edit under review shown in the
   * active editor (else the latest one) with allow once or reject once.
   */
  answerReview(accept: boolean, uri?: vscode.Uri): void {
    const active = uri ?? vscode.window.activeTextEditor?.document.uri;
    const fromEditor = this.review.requestOf(active);
    const asked = [...this.state.permissions].reverse().find((p) => (fromEditor ? p.requestId === fromEditor : this.review.has(p.requestId)));
    if (!asked) {
      void vscode.window.showInformationMessage('Agent: no edit is waiting for review.');
      return;
    }
    const kind = accept ? 'allow_once' : 'reject_once';
    const option = asked.options.find((o) => o.kind === kind) ?? asked.options.find((o) => o.kind.startsWith(accept ? 'allow' : 'reject'));
    this.answerPermission(asked.requestId, option?.optionId);
  }

  // -------------------------------------------------------------------------------------------
  // Finding and carrying sessions

  private readonly request = <T>(method: string, params: Record<string, unknown>): Promise<T> => this.client.request<T>(method, params);

  /** Agent: Search Sessions — a hit opens its session at that message. */
  async searchSessions(): Promise<void> {
    if (!(await this.requireServer())) return;
    const hit = await searchAllSessions(this.request, (what, e) => this.error(what, e));
    if (!hit) return;
    await this.switchSession(hit.sessionId, hit.entryId);
    await this.chat.reveal();
  }

  async tagSession(arg?: SessionArg): Promise<void> {
    if (!(await this.requireServer())) return;
    const id = await this.sessionIdOf(arg, 'Session to tag');
    const current = id ? (typeof arg === 'object' && arg ? { ...this.infoOf(id), ...arg } : this.infoOf(id)) : undefined;
    if (!current) return;
    try {
      const info = await editTags(this.request, current);
      if (!info) return;
      this.dispatch({ type: 'sessionInfo', session: this.order.keep(current, info) });
      await this.refreshSessions();
    } catch (e) {
      this.error('Could not set the tags', e);
    }
  }

  /** Agent: Filter Sessions by Tag… — the tree and the header list only sessions with those tags. */
  async filterByTag(): Promise<void> {
    if (!(await this.requireServer())) return;
    const known = [...new Set(this.state.sessions.flatMap((s) => s.tags ?? []))];
    const tags = await pickTagFilter(known, this.sessionPages.tags);
    if (!tags) return;
    this.sessionPages.tags = tags;
    this.tree.setFilter(tags);
    await this.refreshSessions();
  }

  async exportSession(arg?: SessionArg): Promise<void> {
    if (!(await this.requireServer())) return;
    const id = await this.sessionIdOf(arg, 'Session to export');
    const info = id ? this.infoOf(id) ?? (typeof arg === 'object' ? arg : undefined) : undefined;
    if (!info) return;
    try {
      await exportSessionTo(this.request, info);
    } catch (e) {
      this.error('Export failed', e);
    }
  }

  async importSessions(): Promise<void> {
    if (!(await this.requireServer())) return;
    try {
      const result = await importSessionsFrom(this.request, (line) => this.client.output.appendLine(line));
      if (result?.imported.length) await this.refreshSessions();
    } catch (e) {
      this.error('Import failed', e);
    }
  }

  async restoreFromTrash(): Promise<void> {
    if (!(await this.requireServer())) return;
    try {
      const restored = await restoreTrashed(this.request, (what, e) => this.error(what, e));
      if (restored.length) await this.refreshSessions();
    } catch (e) {
      this.error('Could not list the trash', e);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Checkpoints

  private fileLabel(f: DiffFile): string {
    return vscode.workspace.asRelativePath(vscode.Uri.parse(f.uri));
  }

  async viewChanges(checkpointId: string, onlyPath?: string): Promise<void> {
    if (!(await this.requireServer())) return;
    let diff: DiffResult;
    try {
      diff = await this.docs.diff(checkpointId, true);
    } catch (e) {
      this.error('Could not load the changes', e);
      return;
    }
    let files = diff.files;
    if (onlyPath) {
      const match = files.filter((f) => {
        const fsPath = vscode.Uri.parse(f.uri).fsPath;
        return f.path === onlyPath || fsPath === onlyPath || fsPath.endsWith(`${path.sep}${onlyPath}`) || this.fileLabel(f) === onlyPath;
      });
      if (match.length) files = match;
    }
    if (!files.length) {
      void vscode.window.showInformationMessage('Agent: this checkpoint changed no files.');
      return;
    }
    const title = (f: DiffFile): string => `${this.fileLabel(f)} (${f.operation}, agent turn)`;
    if (files.length === 1) {
      const f = files[0];
      await vscode.commands.executeCommand(
        'vscode.diff',
        checkpointUri(checkpointId, f, 'before'),
        checkpointUri(checkpointId, f, 'after'),
        title(f),
        { preview: true },
      );
      return;
    }
    try {
      await vscode.commands.executeCommand(
        'vscode.changes',
        'Agent checkpoint',
        files.map((f) => [vscode.Uri.parse(f.uri), checkpointUri(checkpointId, f, 'before'), checkpointUri(checkpointId, f, 'after')]),
      );
    } catch {
      const pick = await vscode.window.showQuickPick(
        files.map((f) => ({ label: this.fileLabel(f), description: f.operation, file: f })),
        { placeHolder: 'File to compare' },
      );
      if (pick) {
        await vscode.commands.executeCommand(
          'vscode.diff',
          checkpointUri(checkpointId, pick.file, 'before'),
          checkpointUri(checkpointId, pick.file, 'after'),
          title(pick.file),
        );
      }
    }
  }

  /** Revert a turn's files; the result (conflicts included) shows on its checkpoint. */
  async revert(checkpointId: string, force = false, partial = false): Promise<RestoreResult | undefined> {
    if (!(await this.requireServer())) return undefined;
    this.dispatch({ type: 'revertStarted', checkpointId });
    const result = await this.restore(checkpointId, force, partial);
    if ('error' in result) {
      this.dispatch({ type: 'revertResult', checkpointId, error: result.error });
      return undefined;
    }
    this.dispatch({ type: 'revertResult', checkpointId, result: result.ok });
    await this.refreshSessions();
    return result.ok;
  }

  async undoRevert(checkpointId: string, undoCheckpointId: string): Promise<void> {
    if (!(await this.requireServer())) return;
    this.dispatch({ type: 'revertStarted', checkpointId, undo: true });
    const result = await this.restore(undoCheckpointId, false);
    if ('error' in result) this.dispatch({ type: 'revertResult', checkpointId, undo: true, error: result.error });
    else this.dispatch({ type: 'revertResult', checkpointId, undo: true, result: result.ok });
    await this.refreshSessions();
  }

  private async restore(checkpointId: string, force: boolean, partial = false): Promise<{ ok: RestoreResult } | { error: string }> {
    try {
      const params: Record<string, unknown> = { checkpointId, scope: 'files', force };
      if (partial) params.partial = true;
      const ok = await this.client.request<RestoreResult>(Method.checkpointRestore, params);
      return { ok };
    } catch (e) {
      // Conflicts come in the result (`result: "conflict"` per file), never as an error.
      return { error: errorMessage(e) };
    }
  }

  private async listCheckpoints(): Promise<Checkpoint[]> {
    const session = this.state.session;
    if (!session) return [];
    const result = await this.client.request<CheckpointListResult>(Method.checkpointList, { sessionId: session.sessionId });
    return [...result.checkpoints].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async revertLastTurn(): Promise<void> {
    if (!(await this.requireServer())) return;
    let checkpoints: Checkpoint[];
    try {
      checkpoints = await this.listCheckpoints();
    } catch (e) {
      this.error('Could not list checkpoints', e);
      return;
    }
    const last = checkpoints.find((c) => (c.kind ?? 'turn') === 'turn' && c.files.length > 0);
    if (!last) {
      void vscode.window.showInformationMessage('Agent: no turn of this session changed files.');
      return;
    }
    await this.revertWithMessage(last.checkpointId);
  }

  private async revertWithMessage(checkpointId: string): Promise<void> {
    const result = await this.revert(checkpointId);
    if (!result) {
      const block = this.state.blocks.find((b): b is CheckpointBlock => b.type === 'checkpoint' && b.checkpointId === checkpointId);
      if (block?.revert?.error) void vscode.window.showErrorMessage(`Agent: revert failed: ${block.revert.error}`);
      return;
    }
    const counts = new Map<string, number>();
    for (const f of result.files) counts.set(f.result, (counts.get(f.result) ?? 0) + 1);
    const summary = [...counts].map(([k, n]) => `${n} ${k}`).join(', ') || 'nothing to do';
    const actions = result.undoCheckpointId ? ['Undo'] : [];
    const conflicts = result.files.filter((f) => f.result === 'conflict');
    const show = conflicts.length ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    const pick = await show(`Agent: reverted the turn's files (${summary}).`, ...actions);
    if (pick === 'Undo' && result.undoCheckpointId) await this.undoRevert(checkpointId, result.undoCheckpointId);
  }

  async showCheckpoints(): Promise<void> {
    if (!(await this.requireServer())) return;
    let checkpoints: Checkpoint[];
    try {
      checkpoints = await this.listCheckpoints();
    } catch (e) {
      this.error('Could not list checkpoints', e);
      return;
    }
    if (!checkpoints.length) {
      void vscode.window.showInformationMessage('Agent: this session has no checkpoints yet.');
      return;
    }
    const pick = await vscode.window.showQuickPick(
      checkpoints.map((c) => ({
        label: c.prompt?.replace(/\s+/g, ' ').slice(0, 80) || c.checkpointId,
        description: `${relativeTime(c.createdAt)} · ${c.files.length} file${c.files.length === 1 ? '' : 's'}${c.kind && c.kind !== 'turn' ? ` · ${c.kind}` : ''}`,
        detail: c.files.map((f) => `${f.operation} ${vscode.workspace.asRelativePath(f.uri ?? f.path ?? '')}`).join(', '),
        checkpoint: c,
      })),
      { placeHolder: 'Checkpoints of this session (newest first)', matchOnDetail: true },
    );
    if (!pick) return;
    const action = await vscode.window.showQuickPick(['View Changes', 'Revert'], {
      placeHolder: pick.label,
    });
    if (action === 'View Changes') await this.viewChanges(pick.checkpoint.checkpointId);
    else if (action === 'Revert') await this.revertWithMessage(pick.checkpoint.checkpointId);
  }

  /** Agent: Manage Permissions — the remembered "always" answers; the picked ones are revoked. */
  async managePermissions(): Promise<void> {
    if (!(await this.requireServer())) return;
    const session = this.state.session;
    if (!session) {
      void vscode.window.showInformationMessage('Agent: no active session.');
      return;
    }
    let rules: PermissionRule[];
    try {
      rules = (await this.client.request<PermissionListResult>(Method.permissionsList, { sessionId: session.sessionId })).rules;
    } catch (e) {
      this.error('Could not list permissions', e);
      return;
    }
    if (!rules.length) {
      void vscode.window.showInformationMessage('Agent: no remembered permissions in this session.');
      return;
    }
    const picks = await vscode.window.showQuickPick(
      rules.map((rule) => ({
        label: rule.decision === 'allow' ? 'Always allow' : 'Always reject',
        description: rule.command ?? `every ${rule.toolKind} call`,
        detail: rule.description,
        rule,
      })),
      { placeHolder: 'Remembered permissions of this session: pick the ones to revoke', canPickMany: true },
    );
    for (const pick of picks ?? []) {
      try {
        await this.client.request<PermissionRevokeResult>(Method.permissionsRevoke, {
          sessionId: session.sessionId,
          ruleId: pick.rule.ruleId,
        });
      } catch (e) {
        this.error('Could not revoke a permission', e);
        return;
      }
    }
    if (picks?.length) {
      void vscode.window.showInformationMessage(`Agent: revoked ${picks.length} permission${picks.length === 1 ? '' : 's'}.`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Misc

  async openFile(p: string, line?: number): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    let uri: vscode.Uri;
    if (/^[a-z][\w+.-]*:\/\//i.test(p)) uri = vscode.Uri.parse(p);
    else if (path.isAbsolute(p) || !folder) uri = vscode.Uri.file(p);
    else uri = vscode.Uri.joinPath(folder, p);
    try {
      const doc = await vscode.workspace.openTextDocument(uri);
      const pos = new vscode.Position(Math.max(0, (line ?? 1) - 1), 0);
      await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos), preview: true });
    } catch (e) {
      this.error(`Could not open ${p}`, e);
    }
  }

  async setApiKey(): Promise<void> {
    const key = await vscode.window.showInputBox({
      prompt: 'Anthropic API key (stored in VS Code SecretStorage, passed to the server process only)',
      password: true,
      ignoreFocusOut: true,
    });
    if (!key?.trim()) return;
    await this.context.secrets.store(SECRET_KEY, key.trim());
    const config = vscode.workspace.getConfiguration('agentLs');
    if (config.get('apiKeySource') !== 'secretStorage') {
      await config.update('apiKeySource', 'secretStorage', vscode.ConfigurationTarget.Global);
    } else {
      await this.restart();
    }
    void vscode.window.showInformationMessage('Agent: API key stored.');
  }

  async clearApiKey(): Promise<void> {
    await this.context.secrets.delete(SECRET_KEY);
    void vscode.window.showInformationMessage('Agent: stored API key removed.');
    if (readSettings().apiKeySource === 'secretStorage') await this.restart();
  }

  handleWebviewMessage(m: WebviewMessage, from?: ChatTarget): void {
    switch (m.type) {
      case 'ready':
        this.onWebviewReady(from);
        return;
      case 'prompt': {
        const sel = m.attachSelection ? this.selectionContext() : undefined;
        const attached = attachmentContext(m.attachments ?? []);
        const context = [...(sel?.context ?? []), ...attached.context];
        const labels = [...(sel?.labels ?? []), ...attached.labels];
        const images = m.images ?? [];
        if (m.replaceEntryId) void this.editAndResend(m.replaceEntryId, m.text, context, labels, !!m.revertFiles, images);
        else void this.prompt(m.text, context, labels, { images });
        return;
      }
      case 'rewind':
        void this.rewind(m.entryId, m.scope, m.mode);
        return;
      case 'rewindUndo':
        void this.undoRewind();
        return;
      case 'rewindDismiss':
        this.dismissRewind();
        return;
      case 'retryTurn':
        void this.retryTurn();
        return;
      case 'dismissRevert':
        this.dispatch({ type: 'revertDismissed', checkpointId: m.checkpointId });
        return;
      case 'reviewEdit':
        void this.review.show(m.requestId);
        return;
      case 'searchSessions':
        void this.searchSessions();
        return;
      case 'mentionQuery':
        void this.mentionQuery(m.id, m.query, from);
        return;
      case 'setModel':
        void this.setModel(m.model);
        return;
      case 'setThinking':
        void this.setThinking(m.on);
        return;
      case 'cancel':
        void this.cancel();
        return;
      case 'newSession':
        void this.newSession();
        return;
      case 'switchSession':
        void this.switchSession(m.sessionId);
        return;
      case 'pickSession':
        void this.switchSessionCommand();
        return;
      case 'loadMore':
        void this.loadMore();
        return;
      case 'viewChanges':
        void this.viewChanges(m.checkpointId, m.path);
        return;
      case 'revert':
        void this.revert(m.checkpointId, !!m.force, !!m.partial);
        return;
      case 'undo':
        void this.undoRevert(m.checkpointId, m.undoCheckpointId);
        return;
      case 'permission':
        this.answerPermission(m.requestId, m.optionId);
        return;
      case 'openFile':
        void this.openFile(m.path, m.line);
        return;
      case 'copyCode':
        void copyCode(m.code);
        return;
      case 'insertCode':
        void insertCode(m.code);
        return;
      case 'retry':
        void this.restart();
        return;
      case 'setApiKey':
        void this.setApiKey();
        return;
      case 'showLog':
        this.client.output.show(true);
        return;
    }
  }

  dispose(): void {
    for (const finish of this.permissionWaiters.values()) finish({ outcome: { outcome: 'cancelled' } });
    if (this.listTimer) clearTimeout(this.listTimer);
    for (const d of this.disposables) d.dispose();
  }
}
