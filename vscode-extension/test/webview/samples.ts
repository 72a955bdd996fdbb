/** Markdown the webview tests render: a CommonMark sample with every block kind, and a long reply. */

export const COMMONMARK_SAMPLE = `# Fixing the login bug

The session cookie was read **before** \`load_user()\` ran, so *every* request looked anonymous.
See [the Flask docs](https://flask.palletsprojects.com/) (or https://example.com/faq) for details.

Setext heading
--------------

1. Reproduce it:
   - start the server with \`make run\`
   - log in, then reload
2. Fix the order in **\`auth.py\`**:

   \`\`\`python
   def login(request):
       user = load_user(request.session)  # first
       if user is None:
           return redirect("/login")
       return render(request, "home.html", {"user": user})
   \`\`\`

3. Add a test.

> **Note**
> The cookie name is configurable:
>
> > nested quote with \`code\`

| file | change | lines |
|:-----|:------:|------:|
| \`auth.py\` | order of calls | 12 |
| \`test_auth.py\` | ~~none~~ new test | 30 |

- [x] reproduce
- [ ] fix *and **test***

Indented code:

    $ pytest -q tests/test_auth.py
    1 passed in 0.12s

Entities: &copy; 2026, &lt;not a tag&gt;, &#35;1. Mail <mailto:dev@example.com>.

***
`;

/** About `lines` lines of a typical long reply: sections of prose, lists, a table and code. */
export function longReply(lines: number): string {
  const out: string[] = [];
  for (let i = 1; out.length < lines; i += 1) {
    out.push(
      `## Step ${i}: update \`module_${i}.py\``,
      '',
      `The function \`handle_${i}()\` reads the **configuration** before the _session_ is ready; this`,
      `moves the call and adds a check (see https://example.com/issues/${i}).`,
      '',
      `- keep \`cache_${i}\` warm between requests`,
      `- log at **debug** level only`,
      `  - nested: retry ${i} times`,
      `- [ ] follow-up ticket ${i}`,
      '',
      '```python',
      `def handle_${i}(request, config):`,
      `    """Handle request ${i}."""`,
      '    session = load_session(request)',
      '    if session is None:',
      `        raise ValueError("no session for step ${i}")`,
      `    for attempt in range(${i % 5 + 1}):`,
      '        result = config.fetch(session, attempt=attempt)',
      '        if result.ok:',
      '            return result.value',
      '    return None',
      '```',
      '',
      '| case | before | after |',
      '|------|--------|-------|',
      `| cold | ${i * 3} ms | ${i} ms |`,
      `| warm | ${i * 2} ms | ${i} ms |`,
      '',
      `> Note ${i}: the old path is kept behind a flag.`,
      '',
    );
  }
  return out.slice(0, lines).join('\n');
}
