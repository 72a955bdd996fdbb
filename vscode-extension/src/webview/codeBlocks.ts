/**
 * Code blocks in replies: highlight.js colours (mapped to theme variables in chat.css), a language
 * label, and Copy / Insert at Cursor buttons that hand the code to the extension host.
 */
import hljs from 'highlight.js/lib/common';

import { escapeHtml } from '../escapeHtml';
import type { WebviewMessage } from '../messages';

const LANGUAGE = /^[\w+#.-]{1,30}$/;

/** One code block's HTML; `highlight` is off while the block is still streaming. */
export function codeBlockHtml(content: string, language: string, highlight: boolean): string {
  const code = content.endsWith('\n') ? content.slice(0, -1) : content;
  const lang = LANGUAGE.test(language) ? language : '';
  const known = lang && hljs.getLanguage(lang) ? lang : '';
  const body = highlight && known ? hljs.highlight(code, { language: known, ignoreIllegals: true }).value : escapeHtml(code);
  const cls = lang ? ` class="hljs language-${escapeHtml(lang)}"` : ' class="hljs"';
  const label = lang ? `<span class="code-lang">${escapeHtml(lang)}</span>` : '';
  return (
    `<div class="code-block">` +
    `<div class="code-toolbar">${label}` +
    `<button type="button" class="code-action code-copy" title="Copy to the clipboard">Copy</button>` +
    `<button type="button" class="code-action code-insert" title="Insert at the cursor in the active editor">Insert at Cursor</button>` +
    `</div><pre><code${cls}>${body}</code></pre></div>\n`
  );
}

const COPIED_MS = 1500;

/** The message for a click on a code block's button, if the click was on one. */
export function codeBlockAction(target: EventTarget | null): WebviewMessage | undefined {
  const button = target instanceof Element ? target.closest('button.code-action') : null;
  const code = button?.closest('.code-block')?.querySelector('pre > code')?.textContent;
  if (!button || code == null) return undefined;
  if (button.classList.contains('code-insert')) return { type: 'insertCode', code };
  button.textContent = 'Copied';
  setTimeout(() => {
    button.textContent = 'Copy';
  }, COPIED_MS);
  return { type: 'copyCode', code };
}
