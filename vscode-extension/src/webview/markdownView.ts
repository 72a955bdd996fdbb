/**
 * One reply's Markdown in the DOM, kept up to date while the reply streams without re-parsing it
 * all on every chunk. Markdown blocks are decided line by line: once a complete line has begun a
 * later top-level block, every block before it is final. Those are rendered once (with colours)
 * and never touched again; each update parses only the text after them (the last block and what
 * arrived) and replaces just those nodes. While the reply streams, the last block is shown as it
 * stands: an unclosed fence as plain code, a table without its delimiter row as text.
 */
import { type Token, parseMarkdown, renderTokens } from './markdownRenderer';

/** A link reference definition (`[id]: url`) can change blocks before it. */
const REFERENCE_DEFINITION = /^ {0,3}\[[^\]\n]+\]:/m;
/**
 * Final blocks go into wrappers of this many, so a layout after a chunk walks a few wrappers and
 * the last block rather than every block of a long reply. The wrappers are plain blocks: margins
 * collapse through them and nothing else changes.
 */
const GROUP_SIZE = 32;
const LINE_BREAK = /\r\n|\r|\n/g;

/** Index of the token that opens the last top-level block (0 when there is at most one). */
function lastBlockStart(tokens: Token[]): number {
  for (let i = tokens.length - 1; i > 0; i -= 1) {
    const t = tokens[i];
    if (t.level === 0 && t.nesting !== -1 && t.map) return i;
  }
  return 0;
}

/** Offset in `text` of the start of line `line` (0-based), counting line breaks as markdown-it does. */
function lineOffset(text: string, line: number): number {
  if (line === 0) return 0;
  LINE_BREAK.lastIndex = 0;
  let seen = 0;
  while (LINE_BREAK.exec(text)) {
    seen += 1;
    if (seen === line) return LINE_BREAK.lastIndex;
  }
  return text.length;
}

export class MarkdownView {
  readonly element: HTMLElement;
  /** The text last rendered and whether it was final (not streaming). */
  private text = '';
  private final = false;
  /** Length of the prefix of `text` whose blocks are in the DOM for good. */
  private settled = 0;
  /** Nodes of the blocks after that prefix, replaced on each update. */
  private tail: Node[] = [];
  /** The wrapper final blocks go into, until it holds GROUP_SIZE. */
  private group: HTMLElement | undefined;

  constructor(className = 'body markdown') {
    this.element = document.createElement('div');
    this.element.className = className;
  }

  update(text: string, streaming: boolean): void {
    if (text === this.text && this.final === !streaming) return;
    const settledText = this.text.slice(0, this.settled);
    const mustRedo =
      !text.startsWith(settledText) || (!streaming && this.settled > 0 && REFERENCE_DEFINITION.test(text));
    if (mustRedo) {
      this.element.replaceChildren();
      this.settled = 0;
      this.tail = [];
      this.group = undefined;
    }
    this.text = text;
    this.final = !streaming;
    const rest = text.slice(this.settled);
    let tokens = parseMarkdown(rest);
    if (streaming && lastBlockStart(tokens) > 0) tokens = this.settle(rest, tokens);
    const nodes = renderTokens(tokens, { highlight: !streaming });
    for (const node of this.tail) node.parentNode?.removeChild(node);
    this.element.append(...nodes);
    this.tail = nodes;
  }

  /**
   * Put the final blocks of `rest` (whose `tokens` hold more than one top-level block) into the
   * DOM for good; returns the tokens of what is left. Only complete lines decide: a line still
   * being written can change what the lines before it are (`3` then `3.` continues a list; a
   * table's delimiter row makes its header line leave the paragraph above).
   */
  private settle(rest: string, tokens: Token[]): Token[] {
    const complete = Math.max(rest.lastIndexOf('\n'), rest.lastIndexOf('\r')) + 1;
    const decided = complete === rest.length ? tokens : parseMarkdown(rest.slice(0, complete));
    const cut = lastBlockStart(decided);
    if (cut === 0) return tokens;
    const line = (decided[cut].map as [number, number])[0];
    for (const node of renderTokens(decided.slice(0, cut), { highlight: true })) {
      if (!this.group || this.group.childNodes.length >= GROUP_SIZE) {
        this.group = document.createElement('div');
        this.group.className = 'settled';
        this.element.insertBefore(this.group, this.tail[0] ?? null);
      }
      this.group.append(node);
    }
    this.settled += lineOffset(rest, line);
    const same = tokens.findIndex((t) => t.level === 0 && t.nesting !== -1 && t.map?.[0] === line);
    return same > 0 ? tokens.slice(same) : parseMarkdown(rest.slice(lineOffset(rest, line)));
  }
}
