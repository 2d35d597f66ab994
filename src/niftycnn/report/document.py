"""A report as plain data (sections of paragraphs, tables, figures), rendered twice.

The same :class:`Section` list becomes a self-contained HTML page (figures inlined as
base64 PNG, no external CSS/JS, so it opens offline) and a Markdown file whose figures
are PNG files beside it. Every piece of text passes through an escaper: experiment
names, descriptions and table cells are user-provided. HTML gets ``html.escape``;
Markdown gets the same entities (renderers pass raw HTML through, so ``<script>`` or
``<img onerror=...>`` in a description would run) plus backslashes before the characters
that would make links, images, emphasis, code or table cells of user text.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Paragraph:
    text: str
    emphasis: bool = False


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    frame: pd.DataFrame
    caption: str = ""
    index: bool = True
    float_format: str = "{:.4g}"


@dataclass(frozen=True)
class Figure:
    name: str  # file stem, e.g. "equity" -> figures/equity.png
    png: bytes
    caption: str = ""


@dataclass(frozen=True)
class Preformatted:
    text: str


Block = Paragraph | Bullets | Table | Figure | Preformatted


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)
    anchor: str = ""

    def add(self, *blocks: Block) -> Section:
        self.blocks.extend(blocks)
        return self


def _cell(value: object, float_format: str) -> str:
    if isinstance(value, float):
        return "" if pd.isna(value) else float_format.format(value)
    if isinstance(value, pd.Timestamp):
        return str(value.date())
    return str(value)


def _table_rows(table: Table) -> tuple[list[str], list[list[str]]]:
    frame = table.frame.reset_index() if table.index else table.frame
    header = [str(c) for c in frame.columns]
    rows = [[_cell(v, table.float_format) for v in row] for row in frame.itertuples(index=False)]
    return header, rows


# ---------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#1d2330;line-height:1.45}
h1{border-bottom:2px solid #1d2330;padding-bottom:.2em}
h2{margin-top:2em;border-bottom:1px solid #ccd}
table{border-collapse:collapse;margin:.8em 0;font-size:.88em}
th,td{border:1px solid #ccd;padding:.25em .6em;text-align:right}th{background:#eef1f6}
td:first-child,th:first-child{text-align:left}caption{caption-side:top;text-align:left;
font-weight:600;padding:.3em 0}figure{margin:1em 0}img{max-width:100%}
figcaption{font-size:.85em;color:#556}pre{background:#f5f6f8;padding:.8em;overflow-x:auto;
font-size:.85em}.verdict{background:#f2f7ee;border-left:4px solid #4a7a2c;padding:.6em 1em}
nav a{margin-right:1em}footer{margin-top:3em;font-size:.8em;color:#556}
"""


def _html_block(block: Block) -> str:
    esc = html.escape
    if isinstance(block, Paragraph):
        cls = ' class="verdict"' if block.emphasis else ""
        return f"<p{cls}>{esc(block.text)}</p>"
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{esc(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, Table):
        header, rows = _table_rows(block)
        head = "".join(f"<th>{esc(h)}</th>" for h in header)
        body = "".join(
            "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows
        )
        caption = f"<caption>{esc(block.caption)}</caption>" if block.caption else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    if isinstance(block, Figure):
        data = base64.b64encode(block.png).decode("ascii")
        return (
            f'<figure><img alt="{esc(block.caption or block.name)}" '
            f'src="data:image/png;base64,{data}"><figcaption>{esc(block.caption)}</figcaption>'
            "</figure>"
        )
    if isinstance(block, Preformatted):
        return f"<pre>{esc(block.text)}</pre>"
    raise TypeError(f"unknown block {type(block).__name__}")


def render_html(title: str, sections: list[Section], footer: str = "") -> str:
    """A self-contained HTML page: inline CSS, inline PNGs, no scripts."""
    esc = html.escape
    nav = "".join(f'<a href="#{esc(s.anchor)}">{esc(s.title)}</a>' for s in sections if s.anchor)
    body = []
    for section in sections:
        anchor = f' id="{esc(section.anchor)}"' if section.anchor else ""
        body.append(f"<section{anchor}><h2>{esc(section.title)}</h2>")
        body.extend(_html_block(b) for b in section.blocks)
        body.append("</section>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{esc(title)}</h1><nav>{nav}</nav>{''.join(body)}"
        f"<footer>{esc(footer)}</footer></body></html>\n"
    )


# ------------------------------------------------------------------------ Markdown


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")
_MD_LINE_START = re.compile(r"^(\s*)([-+]|\d+)([.)]?\s)")


def md_escape(text: str) -> str:
    """``text`` as literal Markdown on one line: HTML entities for ``& < >``, a backslash
    before ``\\ ` * _ [ ] | # ~``, a leading list marker escaped, newlines as spaces."""
    text = html.escape(" ".join(str(text).split("\n")), quote=False)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_LINE_START.sub(_escape_marker, text)


def _escape_marker(match: re.Match[str]) -> str:
    """``- x`` -> ``\\- x``; ``1. x`` -> ``1\\. x`` (CommonMark escapes punctuation only)."""
    indent, marker, rest = match.groups()
    if marker in "-+":
        return f"{indent}\\{marker}{rest}"
    return f"{indent}{marker}\\{rest}" if rest.strip() else match.group(0)


def _fence(text: str) -> str:
    """A code fence longer than any backtick run in ``text``, so it cannot be closed early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _md_block(block: Block, figure_dir: str) -> str:
    esc = md_escape
    if isinstance(block, Paragraph):
        return f"**{esc(block.text)}**" if block.emphasis else esc(block.text)
    if isinstance(block, Bullets):
        return "\n".join(f"- {esc(item)}" for item in block.items)
    if isinstance(block, Table):
        header, rows = _table_rows(block)
        lines = [
            "| " + " | ".join(esc(h) for h in header) + " |",
            "|" + "---|" * len(header),
            *("| " + " | ".join(esc(c) for c in row) + " |" for row in rows),
        ]
        caption = f"*{esc(block.caption)}*\n\n" if block.caption else ""
        return caption + "\n".join(lines)
    if isinstance(block, Figure):
        return f"![{esc(block.caption or block.name)}]({figure_dir}/{block.name}.png)"
    if isinstance(block, Preformatted):
        fence = _fence(block.text)
        return f"{fence}\n{block.text}\n{fence}"
    raise TypeError(f"unknown block {type(block).__name__}")


def render_markdown(
    title: str, sections: list[Section], figure_dir: str = "figures", footer: str = ""
) -> str:
    """Markdown with figures referenced as ``figure_dir/<name>.png``."""
    parts = [f"# {md_escape(title)}"]
    for section in sections:
        parts.append(f"## {md_escape(section.title)}")
        parts.extend(_md_block(b, figure_dir) for b in section.blocks)
    if footer:
        parts.append(f"---\n{md_escape(footer)}")
    return "\n\n".join(parts) + "\n"


def figures(sections: list[Section]) -> list[Figure]:
    """Every figure in the report, for writing the PNG files beside report.md."""
    return [b for s in sections for b in s.blocks if isinstance(b, Figure)]
