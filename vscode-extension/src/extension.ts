/** Entry point: wires the controller to VS Code (views, commands, code action, configuration). */
import * as vscode from 'vscode';

import { CHECKPOINT_SCHEME } from './checkpointDocs';
import { REVIEW_SCHEME } from './reviewDocs';
import { AskAboutSelection } from './codeActions';
import { CHAT_EDITOR_TYPE, CHAT_VIEW_ID, ChatViewProvider } from './chatView';
import { AgentController } from './controller';
import type { SessionInfo } from './protocol';
import { SessionsTree } from './sessionsTree';

let controller: AgentController | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const tree = new SessionsTree();
  const chat = new ChatViewProvider(context.extensionUri, (m, from) => controller?.handleWebviewMessage(m, from));
  const c = new AgentController(context, chat, tree);
  controller = c;
  const treeView = vscode.window.createTreeView('agentLs.sessions', { treeDataProvider: tree, showCollapseAll: false });

  const command = (id: string, fn: (...args: never[]) => unknown): vscode.Disposable =>
    vscode.commands.registerCommand(id, fn as (...args: unknown[]) => unknown);

  context.subscriptions.push(
    c,
    tree,
    treeView,
    vscode.window.registerWebviewViewProvider(CHAT_VIEW_ID, chat),
    vscode.window.registerWebviewPanelSerializer(CHAT_EDITOR_TYPE, chat),
    vscode.workspace.registerTextDocumentContentProvider(CHECKPOINT_SCHEME, c.docs),
    vscode.workspace.registerTextDocumentContentProvider(REVIEW_SCHEME, c.review),
    tree.onDidChangeFilter((tags) => {
      treeView.message = tags.length ? `Only sessions tagged ${tags.map((t) => `#${t}`).join(' ')} (Filter by Tag… to change)` : undefined;
    }),
    vscode.languages.registerCodeActionsProvider([{ scheme: 'file' }, { scheme: 'untitled' }], new AskAboutSelection(), {
      providedCodeActionKinds: AskAboutSelection.kinds,
    }),
    command('agentLs.newSession', () => c.newSession()),
    command('agentLs.switchSession', (arg?: SessionInfo | string) => c.switchSessionCommand(arg)),
    command('agentLs.loadMoreSessions', () => c.loadMoreSessions()),
    command('agentLs.openSession', (arg?: SessionInfo | string) => c.switchSessionCommand(arg)),
    command('agentLs.prompt', (text?: string) => c.promptCommand(typeof text === 'string' ? text : undefined)),
    command('agentLs.askAboutSelection', (uri?: vscode.Uri, range?: vscode.Range) =>
      c.askAboutSelection(uri instanceof vscode.Uri ? uri : undefined, range instanceof vscode.Range ? range : undefined),
    ),
    command('agentLs.cancel', () => c.cancel()),
    command('agentLs.revertLastTurn', () => c.revertLastTurn()),
    command('agentLs.showCheckpoints', () => c.showCheckpoints()),
    command('agentLs.managePermissions', () => c.managePermissions()),
    command('agentLs.renameSession', (arg?: SessionInfo | string) => c.renameSession(arg)),
    command('agentLs.deleteSession', (arg?: SessionInfo | string) => c.deleteSession(arg)),
    command('agentLs.forkSession', (arg?: SessionInfo | string) => c.forkSession(arg)),
    command('agentLs.refreshSessions', () => c.refreshSessions()),
    command('agentLs.showServerLog', () => c.client.output.show(true)),
    command('agentLs.restartServer', () => c.restart()),
    command('agentLs.setApiKey', () => c.setApiKey()),
    command('agentLs.clearApiKey', () => c.clearApiKey()),
    command('agentLs.openChatInEditor', () => chat.openInEditor()),
    command('agentLs.addSelectionToChat', () => c.addSelectionToChat()),
    command('agentLs.searchSessions', () => c.searchSessions()),
    command('agentLs.tagSession', (arg?: SessionInfo | string) => c.tagSession(arg)),
    command('agentLs.filterSessionsByTag', () => c.filterByTag()),
    command('agentLs.exportSession', (arg?: SessionInfo | string) => c.exportSession(arg)),
    command('agentLs.importSessions', () => c.importSessions()),
    command('agentLs.restoreFromTrash', () => c.restoreFromTrash()),
    command('agentLs.acceptEdit', (uri?: vscode.Uri) => c.answerReview(true, uri instanceof vscode.Uri ? uri : undefined)),
    command('agentLs.rejectEdit', (uri?: vscode.Uri) => c.answerReview(false, uri instanceof vscode.Uri ? uri : undefined)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('agentLs') && !e.affectsConfiguration('agentLs.trace')) {
        c.postConfig();
        // The server reads its options (model, thinking, …) once: it restarts with the new ones.
        if (!e.affectsConfiguration('agentLs.models')) void c.restart();
      }
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => void c.restart()),
  );
  await c.start();
}

export async function deactivate(): Promise<void> {
  const c = controller;
  controller = undefined;
  if (c) await c.client.stop();
}
