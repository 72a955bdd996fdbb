/**
 * `@` mentions in the prompt box: the word after an `@` asks the extension for matching workspace
 * files; the list under the box is picked with the arrow keys and Enter/Tab (or a click), and the
 * picked file becomes a chip attached to the prompt.
 */
import type { Attachment } from '../messages';

/** The `@word` that ends at the caret (an `@` at the start or after a space), if any. */
export function mentionAt(text: string, caret: number): { start: number; query: string } | undefined {
  const m = /(^|\s)@([^\s@]*)$/.exec(text.slice(0, caret));
  return m ? { start: caret - m[2].length - 1, query: m[2] } : undefined;
}

export class MentionList {
  private files: Attachment[] = [];
  private active = 0;

  constructor(
    private readonly list: HTMLElement,
    private readonly onPick: (file: Attachment) => void,
  ) {
    list.addEventListener('mousedown', (e) => {
      // mousedown, not click: the prompt box keeps the focus (and its caret).
      const row = (e.target as HTMLElement).closest<HTMLElement>('[data-index]');
      if (!row) return;
      e.preventDefault();
      this.active = Number(row.dataset.index);
      this.pick();
    });
  }

  get open(): boolean {
    return !this.list.hidden;
  }

  show(files: Attachment[]): void {
    this.files = files;
    this.active = 0;
    this.render();
  }

  hide(): void {
    this.files = [];
    this.render();
  }

  move(delta: number): void {
    if (!this.files.length) return;
    this.active = (this.active + delta + this.files.length) % this.files.length;
    this.render();
  }

  /** Attach the highlighted file; false when there is none. */
  pick(): boolean {
    const file = this.files[this.active];
    if (!file) return false;
    this.hide();
    this.onPick(file);
    return true;
  }

  private render(): void {
    this.list.hidden = this.files.length === 0;
    this.list.replaceChildren(
      ...this.files.map((f, i) => {
        const row = document.createElement('div');
        row.className = `mention${i === this.active ? ' active' : ''}`;
        row.setAttribute('role', 'option');
        row.setAttribute('aria-selected', String(i === this.active));
        row.id = `mention-${i}`;
        row.dataset.index = String(i);
        row.textContent = f.label;
        return row;
      }),
    );
    if (this.files.length) this.list.setAttribute('aria-activedescendant', `mention-${this.active}`);
    else this.list.removeAttribute('aria-activedescendant');
  }
}
