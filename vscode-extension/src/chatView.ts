/** The chat webview view: the HTML shell, and the message channel to the controller. */
import * as vscode from 'vscode';

import { chatHtml, makeNonce } from './chatHtml';
import type { HostMessage, WebviewMessage } from './messages';

export const CHAT_VIEW_ID = 'agentLs.chat';

export class ChatViewProvider implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;
  private ready = false;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly onMessage: (m: WebviewMessage) => void,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    const webview = view.webview;
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
      if (m?.type === 'ready') this.ready = true;
      this.onMessage(m);
    });
    view.onDidDispose(() => {
      if (this.view === view) {
        this.view = undefined;
        this.ready = false;
      }
    });
  }

  /** Is the panel on screen (so a permission request can be answered there)? */
  get visible(): boolean {
    return !!this.view?.visible && this.ready;
  }

  post(message: HostMessage): void {
    if (this.view && this.ready) void this.view.webview.postMessage(message);
  }

  async reveal(focusPrompt = false, text?: string): Promise<void> {
    if (this.view) this.view.show(!focusPrompt);
    else await vscode.commands.executeCommand(`${CHAT_VIEW_ID}.focus`);
    if (focusPrompt) {
      await this.whenReady();
      this.post({ type: 'focusPrompt', text });
    }
  }

  /** Wait (bounded) until the webview script has said `ready`. */
  async whenReady(timeoutMs = 5000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (!(this.view && this.ready) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    return !!(this.view && this.ready);
  }
}
