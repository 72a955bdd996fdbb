/** Copy and Insert at Cursor from the chat panel's code blocks, against the `vscode` stand-in. */
import { beforeEach, describe, expect, it } from 'vitest';

import { copyCode, insertCode } from '../../src/chatCode';
import { escapeHtml } from '../../src/escapeHtml';
import { Position, Range, Uri, ui, window } from './vscodeStub';

/** An editor whose edits apply to `text` (single line, selections as character ranges). */
function fakeEditor(text: string, selections: Range[], editable = true) {
  const editor = {
    text,
    document: { uri: Uri.file('/w/src/a.py') },
    viewColumn: 1,
    selections,
    async edit(build: (e: { replace(r: Range, s: string): void }) => void): Promise<boolean> {
      const edits: Array<[Range, string]> = [];
      build({ replace: (r, s) => edits.push([r, s]) });
      if (!editable) return false;
      for (const [r, s] of edits.sort((a, b) => b[0].start.character - a[0].start.character)) {
        editor.text = editor.text.slice(0, r.start.character) + s + editor.text.slice(r.end.character);
      }
      return true;
    },
  };
  return editor;
}

const at = (a: number, b = a): Range => new Range(new Position(0, a), new Position(0, b));

beforeEach(() => {
  ui.reset();
  window.activeTextEditor = undefined;
  window.visibleTextEditors = [];
});

describe('insertCode', () => {
  it('replaces the selection at every cursor of the active editor and focuses it', async () => {
    const editor = fakeEditor('x = OLD; y = OLD', [at(4, 7), at(13, 16)]);
    window.activeTextEditor = editor;
    expect(await insertCode('f()')).toBe(true);
    expect(editor.text).toBe('x = f(); y = f()');
    expect(ui.shown.at(-1)).toEqual({ uri: editor.document.uri, viewColumn: 1, preserveFocus: false });
  });

  it('uses a visible editor when none is active, and says what to do when there is none', async () => {
    const editor = fakeEditor('ab', [at(1)]);
    window.visibleTextEditors = [editor];
    expect(await insertCode('-')).toBe(true);
    expect(editor.text).toBe('a-b');
    window.visibleTextEditors = [];
    expect(await insertCode('-')).toBe(false);
    expect(ui.messages.at(-1)).toMatchObject({ level: 'info', text: expect.stringContaining('open a file and place the cursor') });
  });

  it('reports an editor that refuses the edit', async () => {
    window.activeTextEditor = fakeEditor('ab', [at(0)], false);
    expect(await insertCode('x')).toBe(false);
    expect(ui.messages.at(-1)).toMatchObject({ level: 'warning', text: expect.stringContaining('src/a.py') });
  });
});

describe('copyCode', () => {
  it('puts the code on the clipboard', async () => {
    await copyCode('print(1)\n');
    expect(ui.clipboard).toBe('print(1)\n');
  });
});

describe('escapeHtml', () => {
  it('escapes the five HTML specials', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
