/** Test page script: the panel's Markdown view alone, driven from the tests through `window`. */
import { MarkdownView } from '../../src/webview/markdownView';

const transcript = document.getElementById('transcript') as HTMLElement;

function show(): MarkdownView {
  const view = new MarkdownView();
  transcript.replaceChildren(view.element);
  return view;
}

/** The HTML of a view without the wrappers it groups final blocks in. */
function html(view: MarkdownView): string {
  const copy = view.element.cloneNode(true) as HTMLElement;
  for (const group of copy.querySelectorAll(':scope > .settled')) group.replaceWith(...group.childNodes);
  return copy.innerHTML;
}

export interface MarkdownPage {
  /** A fresh view showing `text`; its HTML. */
  renderMarkdown(text: string, streaming: boolean): string;
  /**
   * `text` streamed into one view `size` characters at a time, then ended; after each step, the
   * view's HTML beside the HTML of a fresh view given the same text at once.
   */
  streamMarkdown(text: string, size: number): Array<{ streamed: string; direct: string }>;
}

const api: MarkdownPage = {
  renderMarkdown(text, streaming) {
    const view = show();
    view.update(text, streaming);
    return html(view);
  },
  streamMarkdown(text, size) {
    const steps: Array<{ streamed: string; direct: string }> = [];
    const streamed = show();
    const check = (prefix: string, streaming: boolean): void => {
      streamed.update(prefix, streaming);
      const direct = new MarkdownView();
      direct.update(prefix, streaming);
      steps.push({ streamed: html(streamed), direct: html(direct) });
    };
    for (let end = size; end < text.length + size; end += size) check(text.slice(0, end), true);
    check(text, false);
    return steps;
  },
};
Object.assign(window, api);
