/**
 * The user's message as stored: the prompt's text, then one text block per attachment, which the
 * server writes as "Selection from PATH (lines A-B):" or "Attached file PATH:" and a fenced copy for
 * the model. The panel shows the prompt and chips (`PATH:A-B`) instead, live and after a reload.
 */
import type { ContentBlock } from './protocol';

const SELECTION = /^Selection from (.+) \(lines (\d+)-(\d+)\):\n```/;
const FILE = /^Attached file:? (.+?)(?::\n```|: unreadable|$)/;

/** `PATH:A-B` for a stored attachment block, undefined for any other text. */
export function attachmentLabel(text: string): string | undefined {
  const sel = SELECTION.exec(text);
  if (sel) return sel[2] === sel[3] ? `${sel[1]}:${sel[2]}` : `${sel[1]}:${sel[2]}-${sel[3]}`;
  const file = FILE.exec(text);
  return file ? file[1] : undefined;
}

/** The prompt (the first text block, and any after it that are not attachments) and the chips. */
export function splitUserContent(blocks: ContentBlock[]): { text: string; context: string[] } {
  const texts: string[] = [];
  const context: string[] = [];
  for (const b of blocks) {
    if (b.type !== 'text' || typeof (b as { text?: unknown }).text !== 'string') continue;
    const t = (b as { text: string }).text;
    const label = texts.length ? attachmentLabel(t) : undefined;
    if (label) context.push(label);
    else texts.push(t);
  }
  return { text: texts.join('\n'), context };
}

/**
 * A selection as the server's 0-based inclusive line range: one that ends at the start of a line
 * (a whole-line selection) does not include that line, so the chip says 3-5, not 3-6.
 */
export function selectionLines(start: { line: number }, end: { line: number; character: number }): { first: number; last: number } {
  const last = end.character === 0 && end.line > start.line ? end.line - 1 : end.line;
  return { first: start.line, last };
}

export function linesLabel(path: string, lines: { first: number; last: number }): string {
  return lines.first === lines.last ? `${path}:${lines.first + 1}` : `${path}:${lines.first + 1}-${lines.last + 1}`;
}
