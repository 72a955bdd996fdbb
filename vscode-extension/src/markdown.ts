/**
 * A small, safe Markdown renderer for the chat panel: every character of the input is HTML-escaped
 * before any markup is added, and the only markup produced comes from this file (links only to
 * http(s)/mailto). Supports fenced code (also unclosed, while streaming), inline code, headings,
 * emphasis, strikethrough, links, bare URLs, lists (nested by indentation), block quotes, rules and
 * pipe tables.
 */

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const SAFE_URL = /^(https?:\/\/|mailto:)/i;

function link(label: string, url: string): string {
  // `url` and `label` are already escaped; the scheme check runs on the escaped text, which only
  // differs from the raw one in characters a scheme cannot contain.
  if (!SAFE_URL.test(url)) return label;
  return `<a href="${url}" title="${url}">${label}</a>`;
}

/** Inline markup of text that holds no code spans; input raw, output HTML. */
function inlineText(raw: string): string {
  let s = escapeHtml(raw);
  const links: string[] = [];
  const stash = (html: string): string => {
    links.push(html);
    return `\u0000${links.length - 1}\u0000`;
  };
  // [label](url)
  s = s.replace(/\[([^\]\n]+)\]\(([^)\s]+)\)/g, (_m, label: string, url: string) => stash(link(label, url)));
  // <https://…> (escaped as &lt;…&gt;)
  s = s.replace(/&lt;((?:https?:\/\/|mailto:)[^\s&]+)&gt;/gi, (_m, url: string) => stash(link(url, url)));
  // bare URLs
  s = s.replace(/\bhttps?:\/\/[^\s<]+[^\s<.,;:!?)\]'"&]/gi, (url) => stash(link(url, url)));
  s = s.replace(/(\*\*|__)(?=\S)([\s\S]*?\S)\1/g, '<strong>$2</strong>');
  s = s.replace(/~~(?=\S)([\s\S]*?\S)~~/g, '<del>$1</del>');
  s = s.replace(/(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])/g, '$1<em>$2</em>');
  s = s.replace(/(^|[^\w])_(?=\S)([^_\n]*?\S)_(?![\w])/g, '$1<em>$2</em>');
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u0000(\d+)\u0000/g, (_m, i: string) => links[Number(i)]);
}

/** Inline markup: code spans first (their content is never touched), then the rest. */
export function renderInline(raw: string): string {
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const tick = raw.indexOf('`', i);
    if (tick < 0) break;
    let run = 1;
    while (raw[tick + run] === '`') run += 1;
    const fence = '`'.repeat(run);
    const close = raw.indexOf(fence, tick + run);
    if (close < 0) break;
    out += inlineText(raw.slice(i, tick));
    let code = raw.slice(tick + run, close);
    if (code.startsWith(' ') && code.endsWith(' ') && code.trim()) code = code.slice(1, -1);
    out += `<code>${escapeHtml(code)}</code>`;
    i = close + run;
  }
  return out + inlineText(raw.slice(i));
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const RULE = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
const QUOTE = /^ {0,3}>\s?(.*)$/;
const LIST_ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const TABLE_SEP = /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/;

function splitRow(line: string): string[] {
  let s = line.trim();
  if (s.startsWith('|')) s = s.slice(1);
  if (s.endsWith('|') && !s.endsWith('\\|')) s = s.slice(0, -1);
  return s.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|'));
}

function codeBlock(lang: string, lines: string[]): string {
  const cls = /^[\w+#.-]{1,30}$/.test(lang) ? ` class="language-${escapeHtml(lang)}"` : '';
  const label = cls ? `<span class="code-lang">${escapeHtml(lang)}</span>` : '';
  return `<div class="code-block">${label}<pre><code${cls}>${escapeHtml(lines.join('\n'))}</code></pre></div>`;
}

function isBlockStart(line: string, next: string | undefined): boolean {
  return (
    FENCE.test(line) ||
    HEADING.test(line) ||
    RULE.test(line) ||
    QUOTE.test(line) ||
    LIST_ITEM.test(line) ||
    (line.includes('|') && next !== undefined && TABLE_SEP.test(next))
  );
}

function renderBlocks(lines: string[], depth: number): string {
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i += 1;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const marker = fence[1];
      const body: string[] = [];
      i += 1;
      while (i < lines.length && !new RegExp(`^ {0,3}${marker[0]}{${marker.length},}\\s*$`).test(lines[i])) {
        body.push(lines[i]);
        i += 1;
      }
      i += 1; // closing fence (or past the end while a reply still streams)
      out.push(codeBlock(fence[2], body));
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      const level = heading[1].length;
      out.push(`<h${level}>${renderInline(heading[2])}</h${level}>`);
      i += 1;
      continue;
    }
    if (RULE.test(line)) {
      out.push('<hr>');
      i += 1;
      continue;
    }
    if (QUOTE.test(line)) {
      const body: string[] = [];
      while (i < lines.length && QUOTE.test(lines[i])) {
        body.push((QUOTE.exec(lines[i]) as RegExpExecArray)[1]);
        i += 1;
      }
      out.push(`<blockquote>${depth < 8 ? renderBlocks(body, depth + 1) : escapeHtml(body.join('\n'))}</blockquote>`);
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      const indent = item[1].length;
      const ordered = /\d/.test(item[2]);
      const start = ordered ? parseInt(item[2], 10) : 1;
      const items: string[][] = [];
      while (i < lines.length) {
        const m = LIST_ITEM.exec(lines[i]);
        if (m && m[1].length <= indent + 1 && /\d/.test(m[2]) === ordered) {
          items.push([m[3]]);
          i += 1;
        } else if (items.length && lines[i].trim() && (/^\s/.test(lines[i]) || !isBlockStart(lines[i], lines[i + 1]))) {
          if (m && m[1].length <= indent + 1) break; // a list of the other kind
          items[items.length - 1].push(lines[i].replace(new RegExp(`^\\s{0,${indent + 4}}`), ''));
          i += 1;
        } else if (!lines[i].trim() && i + 1 < lines.length && /^\s+\S/.test(lines[i + 1]) && items.length) {
          items[items.length - 1].push('');
          i += 1;
        } else {
          break;
        }
      }
      const tag = ordered ? 'ol' : 'ul';
      const startAttr = ordered && start !== 1 ? ` start="${start}"` : '';
      const lis = items.map((body) => {
        const nested = body.slice(1).some((l) => LIST_ITEM.test(l) || FENCE.test(l));
        if (nested && depth < 8) {
          return `<li>${renderInline(body[0])}${renderBlocks(body.slice(1), depth + 1)}</li>`;
        }
        return `<li>${body.map(renderInline).join('<br>')}</li>`;
      });
      out.push(`<${tag}${startAttr}>${lis.join('')}</${tag}>`);
      continue;
    }
    if (line.includes('|') && i + 1 < lines.length && TABLE_SEP.test(lines[i + 1])) {
      const head = splitRow(line);
      i += 2;
      const rows: string[][] = [];
      while (i < lines.length && lines[i].includes('|') && lines[i].trim()) {
        rows.push(splitRow(lines[i]));
        i += 1;
      }
      const th = head.map((c) => `<th>${renderInline(c)}</th>`).join('');
      const trs = rows
        .map((r) => `<tr>${head.map((_, k) => `<td>${renderInline(r[k] ?? '')}</td>`).join('')}</tr>`)
        .join('');
      out.push(`<table><thead><tr>${th}</tr></thead><tbody>${trs}</tbody></table>`);
      continue;
    }
    const para: string[] = [line];
    i += 1;
    while (i < lines.length && lines[i].trim() && !isBlockStart(lines[i], lines[i + 1])) {
      para.push(lines[i]);
      i += 1;
    }
    out.push(`<p>${para.map((l) => renderInline(l.trim())).join('<br>')}</p>`);
  }
  return out.join('\n');
}

/** Markdown → safe HTML. */
export function renderMarkdown(markdown: string): string {
  return renderBlocks(markdown.replace(/\r\n?/g, '\n').split('\n'), 0);
}
