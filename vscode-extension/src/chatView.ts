/**
 * The chat webviews: the side bar's view and any chat editor tabs (Agent: Open Chat in Editor),
 * the same page and the same message channel to the controller. Every open one shows the same
 * session; a message from one is answered to that one when it asks for its state.
 */
import * as vscode from 'vscode';

import { chatHtml, makeNonce } from './chatHtml';
import type { HostMessage, WebviewMessage } from './messages';

export const CHAT_VIEW_ID = 'agentLs.chat';
/** The webview panel type of a chat editor tab (restored after a window reload). */
export const CHAT_EDITOR_TYPE = 'agentLs.chatEditor';

/** One chat page: where it is and whether its script said `ready`. */
export interface ChatTarget {
  readonly webview: vscode.Webview;
  ready: boolean;
  readonly visible: () => boolean;
  readonly focus: () => void;
}

export class ChatViewProvider implements vscode.WebviewViewProvider, vscode.WebviewPanelSerializer {
  private view: vscode.WebviewView | undefined;
  private readonly targets = new Set<ChatTarget>();
  /** the chat page that was focused last (the prompt a command focuses) */
  private last: ChatTarget | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly onMessage: (m: WebviewMessage, from: ChatTarget) => void,
  ) {}

  private attach(webview: vscode.Webview, visible: () => boolean, focus: () => void): ChatTarget {
    const target: ChatTarget = { webview, ready: false, visible, focus };
    webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
    webview.html = chatHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'chat.css')).toString(),
    });
    webview.onDidReceiveMessage((m: WebviewMessage) => {
      if (m?.type === 'ready') target.ready = true;
      this.last = target;
      this.onMessage(m, target);
    });
    this.targets.add(target);
    return target;
  }

  private detach(target: ChatTarget): void {
    this.targets.delete(target);
    if (this.last === target) this.last = undefined;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const target = this.attach(view.webview, () => view.visible, () => view.show(false));
    view.onDidDispose(() => {
      this.detach(target);
      if (this.view === view) this.view = undefined;
    });
  }

  /** A chat editor tab, new or restored after a reload. */
  private adopt(panel: vscode.WebviewPanel): void {
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'agent.svg');
    const target = this.attach(panel.webview, () => panel.visible, () => panel.reveal());
    panel.onDidChangeViewState(() => {
      if (panel.active) this.last = target;
    });
    panel.onDidDispose(() => this.detach(target));
    this.last = target;
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel): Promise<void> {
    this.adopt(panel);
  }

  /** Agent: Open Chat in Editor — the chat as an editor tab, beside the side bar's. */
  async openInEditor(): Promise<void> {
    const panel = vscode.window.createWebviewPanel(CHAT_EDITOR_TYPE, 'Agent Chat', vscode.ViewColumn.Active, {
      enableScripts: true,
      retainContextWhenHidden: true,
    });
    this.adopt(panel);
  }

  /** Is a chat page on screen (so a permission request can be answered there)? */
  get visible(): boolean {
    return [...this.targets].some((t) => t.ready && t.visible());
  }

  post(message: HostMessage): void {
    for (const t of this.targets) if (t.ready) void t.webview.postMessage(message);
  }

  postTo(target: ChatTarget, message: HostMessage): void {
    if (target.ready) void target.webview.postMessage(message);
  }

  async reveal(focusPrompt = false, text?: string): Promise<void> {
    const shown = this.last && this.targets.has(this.last) && this.last.visible() ? this.last : undefined;
    if (shown) shown.focus();
    else if (this.view) this.view.show(!focusPrompt);
    else await vscode.commands.executeCommand(`${CHAT_VIEW_ID}.focus`);
    if (focusPrompt) {
      await this.whenReady();
      const target = shown ?? [...this.targets].find((t) => t.ready && t.visible());
      if (target) this.postTo(target, { type: 'focusPrompt', text });
    }
  }

  /** Wait (bounded) until a chat page's script has said `ready`. */
  async whenReady(timeoutMs = 5000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    const ready = (): boolean => [...this.targets].some((t) => t.ready);
    while (!ready() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    return ready();
  }
}
