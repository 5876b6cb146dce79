"""Markdown → one self-contained HTML file: figures embedded, no scripts, no network.

report.md and compare.md are the single source of a report's text; the HTML is
rendered from them by markdown-it-py with raw HTML switched off, so a string
from a result folder (already escaped by bench.render.fmt.md) can only ever become
text. A Content-Security-Policy that allows no script and no remote load is a
second wall behind the escaping. The PNG figures the suite has just drawn
(and only those, by name, never through a symlink, checked to be PNGs) are
embedded as data: URIs, so the file opens offline, e-mailed or on a phone.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token

from bench.errors import UsageError
from bench.render.fmt import visible
from bench.results.write import MIB, atomic_write, read_bytes

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

STYLE = """
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f;
       max-width: 72rem; margin: 0 auto; padding: 0.5rem 1rem 3rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.3rem; margin-top: 2.2rem;
  border-bottom: 1px solid #ddd; }
img { max-width: 100%; height: auto; display: block; margin: 0.8rem 0; }
.table { overflow-x: auto; -webkit-overflow-scrolling: touch; margin: 0.8rem 0; }
table { border-collapse: collapse; font-size: 0.85rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.5rem; vertical-align: top; }
th { background: #f4f4f6; position: sticky; top: 0; }
tr:nth-child(even) td { background: #fafafa; }
code { font-size: 0.85em; background: #f4f4f6; padding: 0 0.2em; border-radius: 3px;
       white-space: nowrap; }
@media (max-width: 40rem) { body { font-size: 15px; padding: 0.3rem 0.6rem; }
  table { font-size: 0.75rem; } }
"""


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIGURE_LIMIT = 16 * MIB


def _embedded_figure(folder: Path, src: str, drawn: frozenset[str]) -> str | None:
    """A data: URI for a PNG the suite has just drawn into the folder (its name in
    `drawn`): read without following a symlink, a regular file that starts as a PNG
    does. None for anything else, so no link can pull in another file."""
    if src not in drawn or "/" in src or not src.endswith(".png"):
        return None
    try:
        data = read_bytes(folder / src, FIGURE_LIMIT)
    except UsageError:
        return None
    if not data.startswith(PNG_SIGNATURE):
        return None
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def render(markdown_text: str, folder: Path, title: str, drawn: Sequence[Path | str] = ()) -> str:
    """The HTML page for a Markdown report whose figures, just drawn, lie in `folder`."""
    names = frozenset(Path(p).name for p in drawn)
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

    def image(self: RendererHTML, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        alt = escape(self.renderInlineAsText(token.children or [], options, env))
        uri = _embedded_figure(folder, str(token.attrGet("src") or ""), names)
        if uri is None:
            return f"<em>figure not available: {alt}</em>"
        return f'<img src="{uri}" alt="{alt}" loading="eager">'

    def table_open(
        self: RendererHTML, tokens: Sequence[Token], idx: int, options: Any, env: Any
    ) -> str:
        return '<div class="table"><table>\n'

    def table_close(
        self: RendererHTML, tokens: Sequence[Token], idx: int, options: Any, env: Any
    ) -> str:
        return "</table></div>\n"

    md.add_render_rule("image", image)
    md.add_render_rule("table_open", table_open)
    md.add_render_rule("table_close", table_close)
    body = md.render(markdown_text)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(visible(title, backslash=chr(92)))}</title>\n"
        f"<style>{STYLE}</style>\n</head>\n"
        f"<body>\n{body}</body>\n</html>\n"
    )


def write(
    markdown_text: str, folder: Path, name: str, title: str, drawn: Sequence[Path | str] = ()
) -> Path:
    """folder/name, rendered from the Markdown; only the figures in `drawn` are embedded."""
    return atomic_write(folder / name, render(markdown_text, folder, title, drawn))
