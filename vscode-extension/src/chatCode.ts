/** The chat panel's code-block buttons, done in the editor: Copy and Insert at Cursor. */
import * as vscode from 'vscode';

export async function copyCode(code: string): Promise<void> {
  await vscode.env.clipboard.writeText(code);
  vscode.window.setStatusBarMessage('Agent: code copied to the clipboard.', 2000);
}

/**
 * Put the code at the cursor (replacing any selection, at every cursor) of the editor the user was
 * last in: the panel has the focus when its button is clicked, so that is the active text editor,
 * or else the first visible one. Returns whether the code went in.
 */
export async function insertCode(code: string): Promise<boolean> {
  const editor = vscode.window.activeTextEditor ?? vscode.window.visibleTextEditors[0];
  if (!editor) {
    void vscode.window.showInformationMessage('Agent: open a file and place the cursor where the code should go, then click Insert at Cursor again.');
    return false;
  }
  const done = await editor.edit((edit) => {
    for (const selection of editor.selections) edit.replace(selection, code);
  });
  if (!done) {
    void vscode.window.showWarningMessage(`Agent: could not insert into ${vscode.workspace.asRelativePath(editor.document.uri)}; it may be read-only. Copy the code instead.`);
    return false;
  }
  await vscode.window.showTextDocument(editor.document, { viewColumn: editor.viewColumn, preserveFocus: false });
  return true;
}
