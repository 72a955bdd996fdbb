"""A session as one self-contained HTML page: inline style, no script, no external asset;
every piece of session text is escaped, so a transcript can never inject markup."""

from __future__ import annotations

from html import escape

from agent_ls.carry.document import Checkpoint, Document, Message, Note, Part, ToolCall

_ROLES = {"user": "User", "assistant": "Assistant", "tool": "Tool results"}
STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#1f2328;background:#fff}
header dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;color:#59636e}
section{border:1px solid #d1d9e0;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}
section.user{background:#f6f8fa}section.checkpoint,section.note{border-style:dashed}
h2,h3{font-size:1rem;margin:.3rem 0}time{color:#59636e;font-weight:normal;font-size:.85rem}
pre{background:#f6f8fa;padding:.5rem;overflow-x:auto;white-space:pre-wrap;word-break:break-word}
.text{white-space:pre-wrap}.thinking{color:#59636e;font-style:italic;white-space:pre-wrap}
.add{color:#116329;background:#dafbe1}.del{color:#82071e;background:#ffebe9}
.hunk{color:#0550ae}.error{color:#82071e}
@media (prefers-color-scheme:dark){body{color:#e6edf3;background:#0d1117}
section{border-color:#3d444d}section.user,pre{background:#151b23}
.add{color:#aff5b4;background:#033a16}.del{color:#ffdcd7;background:#67060c}}
"""


def render(doc: Document) -> str:
    """The whole page."""
    info = doc.info
    rows = [
        ("Session", info.session_id),
        ("Workspace", info.workspace),
        ("Created", info.created_at),
        ("Modified", info.modified_at),
    ]
    meta = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in rows)
    body = "\n".join(_part(part) for part in doc.parts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">\n"
        f"<title>{escape(doc.title)}</title>\n<style>{STYLE}</style></head>\n<body>\n"
        f"<header><h1>{escape(doc.title)}</h1><dl>{meta}</dl></header>\n"
        f"<main>\n{body}\n</main>\n</body></html>\n"
    )


def _time(ts: str) -> str:
    return f' <time datetime="{escape(ts)}">{escape(ts)}</time>'


def _part(part: Part) -> str:
    if isinstance(part, Message):
        return _message(part)
    if isinstance(part, Checkpoint):
        head = "Undo checkpoint" if part.kind == "undo" else "Checkpoint"
        items = "".join(
            f"<li>{escape(c.operation)} <code>{escape(c.path)}</code></li>" for c in part.files
        )
        diffs = "".join(
            f"<details open><summary><code>{escape(c.path)}</code></summary>"
            f"{_diff(c.diff)}</details>"
            for c in part.files
        )
        return (
            f'<section class="checkpoint" id="e-{escape(part.entry_id)}">'
            f"<h3>{head}{_time(part.ts)}</h3><ul>{items}</ul>{diffs}</section>"
        )
    assert isinstance(part, Note)
    text = f'<div class="text">{escape(part.text)}</div>' if part.text else ""
    return (
        f'<section class="note" id="e-{escape(part.entry_id)}">'
        f"<h3>{escape(part.title)}{_time(part.ts)}</h3>{text}</section>"
    )


def _message(message: Message) -> str:
    model = f" ({escape(message.model)})" if message.model else ""
    role = escape(_ROLES.get(message.role, message.role))
    out = [
        f'<section class="{escape(message.role)}" id="e-{escape(message.entry_id)}">'
        f"<h2>{role}{model}{_time(message.ts)}</h2>"
    ]
    for part in message.parts:
        if isinstance(part, ToolCall):
            out.append(
                f"<details><summary>Tool call <code>{escape(part.name)}</code></summary>"
                f"<pre>{escape(part.input)}</pre></details>"
            )
            if part.output is not None:
                label = '<span class="error">Error</span>' if part.is_error else "Output"
                out.append(
                    f"<details open><summary>{label}</summary>"
                    f"<pre>{escape(part.output or '(empty)')}</pre></details>"
                )
        elif part[0] == "thinking":
            out.append(
                f'<details><summary>Thinking</summary><div class="thinking">'
                f"{escape(part[1])}</div></details>"
            )
        else:
            out.append(f'<div class="text">{escape(part[1])}</div>')
    out.append("</section>")
    return "".join(out)


def _diff(diff: str) -> str:
    lines = []
    for line in (diff or "(no textual change)\n").splitlines():
        cls = ""
        if line.startswith("@@"):
            cls = "hunk"
        elif line.startswith("+") and not line.startswith("+++"):
            cls = "add"
        elif line.startswith("-") and not line.startswith("---"):
            cls = "del"
        text = escape(line)
        lines.append(f'<span class="{cls}">{text}</span>' if cls else text)
    return "<pre>" + "\n".join(lines) + "</pre>"
