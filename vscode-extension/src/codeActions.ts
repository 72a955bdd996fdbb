/** "Ask Agent About Selection" as a code action on any non-empty selection. */
import * as vscode from 'vscode';

export class AskAboutSelection implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  provideCodeActions(document: vscode.TextDocument, range: vscode.Range | vscode.Selection): vscode.CodeAction[] {
    if (range.isEmpty) return [];
    const action = new vscode.CodeAction('Ask Agent About Selection', vscode.CodeActionKind.QuickFix);
    action.command = {
      command: 'agentLs.askAboutSelection',
      title: 'Ask Agent About Selection',
      arguments: [document.uri, range],
    };
    return [action];
  }
}
