/**
 * Markdown for the chat panel, by markdown-it: CommonMark with GFM tables, strikethrough, task
 * lists and bare links. Raw HTML is off, links go only to http(s) and mailto, images are not
 * loaded (a reply must not make the panel fetch a URL), and every fragment passes DOMPurify before
 * it reaches the page, so the safety does not rest on the render rules alone.
 */
import DOMPurify from 'dompurify';
import markdownIt, { type Env, type MarkdownIt, type StateCore, type Token } from 'markdown-it';

import { codeBlockHtml } from './codeBlocks';

export type { Token };

const SAFE_LINK = /^(?:https?:|mailto:)/i;

/** Render-time switches, passed to markdown-it as its `env`. */
export interface RenderEnv {
  /** Colour code blocks (skipped for the block a reply is still writing). */
  highlight: boolean;
}

const highlights = (env: Env | undefined): boolean => (env as RenderEnv | undefined)?.highlight !== false;

const TASK_MARKER = /^\[([ xX])\][ \t]/;

/** `- [ ] todo` / `- [x] done`: a disabled checkbox in place of the marker (GFM task lists). */
function taskLists(state: StateCore): void {
  const tokens = state.tokens;
  for (let i = 2; i < tokens.length; i += 1) {
    const inline = tokens[i];
    if (inline.type !== 'inline' || tokens[i - 1].type !== 'paragraph_open' || tokens[i - 2].type !== 'list_item_open') continue;
    const first = inline.children?.[0];
    const marker = first?.type === 'text' ? TASK_MARKER.exec(first.content) : null;
    if (!first || !marker) continue;
    first.content = first.content.slice(marker[0].length);
    const box = new state.Token('task_checkbox', 'input', 0);
    box.meta = { checked: marker[1] !== ' ' };
    inline.children?.unshift(box);
    tokens[i - 2].attrJoin('class', 'task-list-item');
  }
}

/** Table cell alignment as a class, not a `style` attribute (DOMPurify drops every `style`). */
function alignmentClasses(state: StateCore): void {
  for (const token of state.tokens) {
    const style = token.type === 'th_open' || token.type === 'td_open' ? token.attrGet('style') : null;
    if (typeof style !== 'string') continue;
    token.attrs = (token.attrs ?? []).filter(([name]) => name !== 'style');
    token.attrJoin('class', `align-${style.replace('text-align:', '')}`);
  }
}

function createMarkdownIt(): MarkdownIt {
  const md = markdownIt('default', { html: false, linkify: true, breaks: true });
  md.linkify.set({ fuzzyLink: false, fuzzyIP: false });
  md.validateLink = (url) => SAFE_LINK.test(url.trim());
  md.disable('image');
  md.core.ruler.after('inline', 'task_lists', taskLists);
  md.core.ruler.push('alignment_classes', alignmentClasses);
  const rules = md.renderer.rules;
  rules.task_checkbox = (tokens, idx) =>
    `<input type="checkbox" class="task-list-item-checkbox" disabled${tokens[idx].meta?.checked ? ' checked' : ''}> `;
  rules.fence = (tokens, idx, _options, env) => {
    const token = tokens[idx];
    return codeBlockHtml(token.content, md.utils.unescapeAll(token.info).trim().split(/\s+/)[0], highlights(env));
  };
  rules.code_block = (tokens, idx, _options, env) => codeBlockHtml(tokens[idx].content, '', highlights(env));
  const linkOpen = rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
  rules.link_open = (tokens, idx, options, env, self) => {
    const href = tokens[idx].attrGet('href');
    if (href !== null) tokens[idx].attrSet('title', String(href));
    return linkOpen(tokens, idx, options, env, self);
  };
  return md;
}

const md = createMarkdownIt();

/** Block tokens of a Markdown text. */
export function parseMarkdown(text: string): Token[] {
  return md.parse(text, {});
}

DOMPurify.setConfig({
  RETURN_DOM_FRAGMENT: true,
  // DOMPurify's default minus every scheme but http(s) and mailto; values without a scheme pass
  // (it checks every attribute value with this, not only URLs).
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i,
  FORBID_TAGS: ['img', 'style', 'form', 'svg', 'math'],
  FORBID_ATTR: ['style'],
});

/** Tokens → sanitized DOM nodes, ready to insert (without the newlines markdown-it puts between blocks). */
export function renderTokens(tokens: Token[], env: RenderEnv): Node[] {
  // setConfig above makes sanitize return a DocumentFragment.
  const fragment = DOMPurify.sanitize(md.renderer.render(tokens, md.options, { ...env })) as unknown as DocumentFragment;
  return [...fragment.childNodes].filter((n) => n.nodeType !== Node.TEXT_NODE || n.textContent?.trim());
}
