/**
 * The panel's Markdown (markdown-it, highlight.js, DOMPurify) in headless Chromium: the view the
 * panel uses, in the panel's shell with its CSP, rendering and streaming the tests' text.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { MarkdownPage } from './markdownPage';
import { bundle, externalRequests, launch, newPage } from './harness';
import { COMMONMARK_SAMPLE, longReply } from './samples';

let browser: Browser;
let page: Page;
let script: string;

// One page for the file: every render starts from a fresh view.
beforeAll(async () => {
  script = await bundle('test/webview/markdownPage.ts');
  browser = await launch();
  page = await newPage(browser, script);
  await page.waitForFunction(() => 'renderMarkdown' in window);
});

afterAll(async () => {
  await browser?.close();
});

beforeEach(async () => {
  await page.evaluate(() => {
    (window as unknown as { __xss: boolean }).__xss = false;
  });
});

/** Render `text` in a fresh view; its HTML with the newlines between tags removed. */
async function render(text: string, streaming = false): Promise<string> {
  const html = await page.evaluate(([t, s]) => (window as unknown as MarkdownPage).renderMarkdown(t, s), [text, streaming] as const);
  return html.replace(/>\n/g, '>').replace(/\n</g, '<');
}

const view = (selector = ''): ReturnType<Page['locator']> => page.locator(`#transcript .markdown ${selector}`.trim());

async function count(selector: string): Promise<number> {
  return view(selector).count();
}

describe('markdown: safety', () => {
  it('never lets raw HTML through, as elements or attributes', async () => {
    await render('<script>window.__xss=true</script>\n\n<img src=x onerror="window.__xss=true">\n\ninline <b onmouseover="window.__xss=true">b</b> <iframe src="https://example.com"></iframe>');
    expect(await count('script, img, iframe, b')).toBe(0);
    expect(await count('[onerror], [onmouseover]')).toBe(0);
    const text = await view().textContent();
    expect(text).toContain('<script>window.__xss=true</script>');
    expect(text).toContain('<img src=x onerror="window.__xss=true">');
    expect(await page.evaluate(() => (window as unknown as { __xss: boolean }).__xss)).toBe(false);
  });

  it('only links http(s) and mailto URLs', async () => {
    await render('[ok](https://example.com/a?b=1&c=2) and [mail](mailto:dev@example.com)');
    const links = view('a');
    expect(await links.count()).toBe(2);
    expect(await links.nth(0).getAttribute('href')).toBe('https://example.com/a?b=1&c=2');
    expect(await links.nth(0).getAttribute('title')).toBe('https://example.com/a?b=1&c=2');
    expect(await links.nth(1).getAttribute('href')).toBe('mailto:dev@example.com');
    for (const bad of [
      '[x](javascript:alert(1))',
      '[x](JaVaScRiPt:window.__xss=true)',
      '<javascript:alert(1)>',
      '[x](vbscript:msgbox)',
      '[x](data:text/html;base64,PHNjcmlwdD4=)',
      '[x](file:///etc/passwd)',
      '[x]( javascript:alert(1))',
      '[x][r]\n\n[r]: javascript:alert(1)',
      '[x](src/auth.py)',
    ]) {
      await render(bad);
      expect(await count('a'), bad).toBe(0);
      expect(await count('[href]'), bad).toBe(0);
    }
  });

  it('keeps quotes inside a link from breaking out of the attribute', async () => {
    await render('[x](https://e.com/"onmouseover="alert(1))');
    expect(await count('[onmouseover]')).toBe(0);
    const href = await view('a').getAttribute('href');
    expect(href).toBe('https://e.com/%22onmouseover=%22alert(1)');
  });

  it('never loads an image a reply names', async () => {
    await render('![tracking](https://example.com/pixel.png?secret=1) and <https://example.com/x.png>');
    expect(await count('img')).toBe(0);
    expect(await view('a').first().getAttribute('href')).toBe('https://example.com/pixel.png?secret=1');
    await page.evaluate(() => new Promise((r) => setTimeout(r, 50)));
    expect(externalRequests(page)).toEqual([]);
  });

  it('ignores an unsafe fence language', async () => {
    await render('```"><script>window.__xss=true</script>\nx\n```');
    expect(await count('script')).toBe(0);
    expect(await view('pre code').getAttribute('class')).toBe('hljs');
    expect(await view('pre code').textContent()).toBe('x');
  });
});

describe('markdown: CommonMark and GFM', () => {
  it('renders inline code, emphasis and strikethrough', async () => {
    const html = await render('use `a<b` and **bold**, *it*, _it2_ and ~~old~~');
    expect(html).toBe('<p>use <code>a&lt;b</code> and <strong>bold</strong>, <em>it</em>, <em>it2</em> and <s>old</s></p>');
  });

  it('renders code inside emphasis and nested emphasis', async () => {
    expect(await render('**`code`** and *`x`*')).toBe('<p><strong><code>code</code></strong> and <em><code>x</code></em></p>');
    expect(await render('*a **b** c* and ***both***')).toBe('<p><em>a <strong>b</strong> c</em> and <em><strong>both</strong></em></p>');
  });

  it('leaves snake_case identifiers and file names alone', async () => {
    expect(await render('call my_func_name now')).toBe('<p>call my_func_name now</p>');
    expect(await render('edit setup.py, main.rs and README.md')).toBe('<p>edit setup.py, main.rs and README.md</p>');
  });

  it('decodes entities as text', async () => {
    await render('&copy; &amp; &#35; &lt;b&gt;not bold&lt;/b&gt; &nosuch;');
    expect(await view('p').textContent()).toBe('© & # <b>not bold</b> &nosuch;');
    expect(await count('b')).toBe(0);
  });

  it('links bare URLs without trailing punctuation, also inside parentheses', async () => {
    await render('see https://example.com/x. (also https://example.com/a) and (https://en.wikipedia.org/wiki/Foo_(bar)) or <https://example.com/auto>');
    const hrefs = await view('a').evaluateAll((els) => els.map((e) => e.getAttribute('href')));
    expect(hrefs).toEqual(['https://example.com/x', 'https://example.com/a', 'https://en.wikipedia.org/wiki/Foo_(bar)', 'https://example.com/auto']);
    expect(await view('p').textContent()).toContain('(also https://example.com/a) and');
  });

  it('renders ATX and setext headings, rules and quotes', async () => {
    expect(await render('# Title\n\n---\n\n> quoted **text**')).toBe('<h1>Title</h1><hr><blockquote><p>quoted <strong>text</strong></p></blockquote>');
    expect(await render('Title\n=====\n\nSub *title*\n---')).toBe('<h1>Title</h1><h2>Sub <em>title</em></h2>');
  });

  it('renders unordered, ordered and nested lists', async () => {
    expect(await render('- a\n- b')).toBe('<ul><li>a</li><li>b</li></ul>');
    expect(await render('3. c\n4. d')).toBe('<ol start="3"><li>c</li><li>d</li></ol>');
    expect(await render('- top\n  - inner\n- next')).toBe('<ul><li>top<ul><li>inner</li></ul></li><li>next</li></ul>');
  });

  it('renders task lists with disabled checkboxes', async () => {
    await render('- [ ] todo\n- [x] done *well*\n- not a task');
    const items = view('li');
    expect(await items.count()).toBe(3);
    expect(await view('li.task-list-item').count()).toBe(2);
    const boxes = view('li.task-list-item > input[type="checkbox"]');
    expect(await boxes.evaluateAll((els) => els.map((e) => [(e as HTMLInputElement).checked, (e as HTMLInputElement).disabled]))).toEqual([
      [false, true],
      [true, true],
    ]);
    expect(await items.allTextContents()).toEqual([' todo', ' done well', 'not a task']);
  });

  it('renders pipe tables with alignment', async () => {
    expect(await render('| a | b | c |\n|---|--:|:-:|\n| 1 | `x` | *y* |')).toBe(
      '<table><thead><tr><th>a</th><th class="align-right">b</th><th class="align-center">c</th></tr></thead>' +
        '<tbody><tr><td>1</td><td class="align-right"><code>x</code></td><td class="align-center"><em>y</em></td></tr></tbody></table>',
    );
    expect(await view('td.align-right').evaluate((e) => getComputedStyle(e).textAlign)).toBe('right');
  });

  it('joins paragraph lines with line breaks and splits paragraphs on blank lines', async () => {
    expect(await render('one\ntwo\n\nthree')).toBe('<p>one<br>two</p><p>three</p>');
  });

  it('renders fenced code highlighted, with its language, untouched by inline rules', async () => {
    await render('```python\nif a < b and **c**:\n    pass\n```');
    const code = view('.code-block pre code.language-python');
    expect(await code.textContent()).toBe('if a < b and **c**:\n    pass');
    expect(await code.locator('.hljs-keyword').allTextContents()).toEqual(['if', 'and', 'pass']);
    expect(await count('strong')).toBe(0);
    expect(await view('.code-block .code-lang').textContent()).toBe('python');
    expect(await view('.code-block button').allTextContents()).toEqual(['Copy', 'Insert at Cursor']);
  });

  it('renders indented code as a code block', async () => {
    await render('para\n\n    indented <code>\n      line 2\n\nafter');
    expect(await view('.code-block pre code').textContent()).toBe('indented <code>\n  line 2');
    expect(await view('p').allTextContents()).toEqual(['para', 'after']);
  });

  it('renders a fence in an unknown language as plain code', async () => {
    await render('```no-such-lang\n<x> & y\n```');
    expect(await view('pre code.language-no-such-lang').innerHTML()).toBe('&lt;x&gt; &amp; y');
  });
});

describe('markdown: streaming', () => {
  it('shows an unclosed fence as code while it streams, highlighted once the reply ends', async () => {
    await render('Here:\n```js\nconst x = 1;', true);
    expect(await view('p').textContent()).toBe('Here:');
    expect(await view('pre code.language-js').textContent()).toBe('const x = 1;');
    expect(await count('pre code span')).toBe(0);
    await render('Here:\n```js\nconst x = 1;', false);
    expect(await view('pre code.language-js .hljs-keyword').textContent()).toBe('const');
  });

  it('shows a half-written table as text until its delimiter row is complete', async () => {
    await render('| a | b |\n|-', true);
    expect(await count('table')).toBe(0);
    expect(await view('p').textContent()).toContain('| a | b |');
    await render('| a | b |\n|---|---|\n| 1', true);
    expect(await view('table th').allTextContents()).toEqual(['a', 'b']);
    expect(await view('table td').allTextContents()).toEqual(['1', '']);
  });

  for (const [name, text, sizes] of [
    ['the CommonMark sample', COMMONMARK_SAMPLE, [1, 7, 20]],
    ['a long reply', longReply(120), [20]],
    ['a loose list continued after a blank line', '1. one\n\n2. two\n\n   more of two\n\n3. three\n\nend', [1, 3]],
    ['a paragraph that becomes a setext heading', 'intro\n\nTitle\n=====\n\nafter', [1, 3]],
    ['a table that interrupts a paragraph', 'text\n| a | b |\n|--x\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nend', [1, 2]],
    ['Windows line endings', '# T\r\n\r\n- a\r\n- b\r\n\r\n```js\r\nx\r\n```\r\nend', [1, 2]],
  ] as const) {
    it(`renders ${name} streamed in chunks exactly as at once`, async () => {
      const once = await page.evaluate(([t]) => (window as unknown as MarkdownPage).renderMarkdown(t, false), [text] as const);
      for (const size of sizes) {
        const steps = await page.evaluate(([t, n]) => (window as unknown as MarkdownPage).streamMarkdown(t, n), [text, size] as const);
        for (const [i, step] of steps.entries()) expect(step.streamed, `${size}-character chunks, after chunk ${i + 1}`).toBe(step.direct);
        expect(steps.at(-1)?.streamed).toBe(once);
      }
    });
  }

  it('resolves a reference link defined after its use once the reply ends', async () => {
    const text = 'See [the docs][d].\n\nMore text.\n\n[d]: https://example.com/docs\n';
    const steps = await page.evaluate(([t]) => (window as unknown as MarkdownPage).streamMarkdown(t, 7), [text] as const);
    expect(steps.at(-1)?.streamed).toBe('<p>See <a href="https://example.com/docs" title="https://example.com/docs">the docs</a>.</p><p>More text.</p>');
  });
});
