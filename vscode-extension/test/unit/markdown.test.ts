import { describe, expect, it } from 'vitest';

import { escapeHtml, renderInline, renderMarkdown } from '../../src/markdown';

describe('escapeHtml', () => {
  it('escapes the five HTML specials', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

describe('renderMarkdown', () => {
  it('never lets raw HTML through', () => {
    const html = renderMarkdown('<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>');
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('only links http(s) and mailto URLs', () => {
    expect(renderMarkdown('[ok](https://example.com/a?b=1&c=2)')).toContain(
      '<a href="https://example.com/a?b=1&amp;c=2" title="https://example.com/a?b=1&amp;c=2">ok</a>',
    );
    const bad = renderMarkdown('[x](javascript:alert(1))');
    expect(bad).not.toContain('<a');
    expect(bad).not.toContain('href');
  });

  it('keeps quotes inside a link from breaking out of the attribute', () => {
    const html = renderMarkdown('[x](https://e.com/"onmouseover="alert(1))');
    expect(html).not.toMatch(/href="[^"]*"onmouseover/);
    expect(html).toContain('&quot;onmouseover=&quot;');
  });

  it('links bare URLs without trailing punctuation', () => {
    expect(renderMarkdown('see https://example.com/x.')).toContain('<a href="https://example.com/x"');
  });

  it('renders fenced code with its language, escaped and untouched by inline rules', () => {
    const html = renderMarkdown('```python\nif a < b and **c**:\n    pass\n```');
    expect(html).toContain('<code class="language-python">if a &lt; b and **c**:\n    pass</code>');
    expect(html).toContain('<span class="code-lang">python</span>');
  });

  it('renders an unclosed fence (a reply still streaming) as code', () => {
    const html = renderMarkdown('Here:\n```js\nconst x = 1;');
    expect(html).toContain('<p>Here:</p>');
    expect(html).toContain('<code class="language-js">const x = 1;</code>');
  });

  it('ignores an unsafe fence language', () => {
    expect(renderMarkdown('```"><script>\nx\n```')).not.toContain('<script');
  });

  it('renders inline code, emphasis and strikethrough', () => {
    expect(renderInline('use `a<b` and **bold**, *it*, _it2_ and ~~old~~')).toBe(
      'use <code>a&lt;b</code> and <strong>bold</strong>, <em>it</em>, <em>it2</em> and <del>old</del>',
    );
  });

  it('leaves snake_case identifiers alone', () => {
    expect(renderInline('call my_func_name now')).toBe('call my_func_name now');
  });

  it('renders headings, rules and quotes', () => {
    const html = renderMarkdown('# Title\n\n---\n\n> quoted **text**');
    expect(html).toContain('<h1>Title</h1>');
    expect(html).toContain('<hr>');
    expect(html).toContain('<blockquote><p>quoted <strong>text</strong></p></blockquote>');
  });

  it('renders unordered, ordered and nested lists', () => {
    expect(renderMarkdown('- a\n- b')).toBe('<ul><li>a</li><li>b</li></ul>');
    expect(renderMarkdown('3. c\n4. d')).toBe('<ol start="3"><li>c</li><li>d</li></ol>');
    const nested = renderMarkdown('- top\n  - inner\n- next');
    expect(nested).toBe('<ul><li>top<ul><li>inner</li></ul></li><li>next</li></ul>');
  });

  it('renders pipe tables', () => {
    const html = renderMarkdown('| a | b |\n|---|---|\n| 1 | `x` |');
    expect(html).toBe('<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td><code>x</code></td></tr></tbody></table>');
  });

  it('joins paragraph lines with line breaks and splits paragraphs on blank lines', () => {
    expect(renderMarkdown('one\ntwo\n\nthree')).toBe('<p>one<br>two</p>\n<p>three</p>');
  });
});
