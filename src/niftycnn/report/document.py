"""A report as plain data (sections of paragraphs, tables, figures), rendered twice.

The same :class:`Section` list becomes a self-contained HTML page (figures inlined as
base64 PNG, no external CSS/JS, so it opens offline) and a Markdown file whose figures
are PNG files beside it. Every piece of text that reaches HTML passes through
``html.escape``: experiment names, descriptions and table cells are user-provided.
"""

from __future__ import annotations

import base64
import html
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


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_block(block: Block, figure_dir: str) -> str:
    if isinstance(block, Paragraph):
        return f"**{block.text}**" if block.emphasis else block.text
    if isinstance(block, Bullets):
        return "\n".join(f"- {item}" for item in block.items)
    if isinstance(block, Table):
        header, rows = _table_rows(block)
        lines = [
            "| " + " | ".join(_md_escape(h) for h in header) + " |",
            "|" + "---|" * len(header),
            *("| " + " | ".join(_md_escape(c) for c in row) + " |" for row in rows),
        ]
        caption = f"*{block.caption}*\n\n" if block.caption else ""
        return caption + "\n".join(lines)
    if isinstance(block, Figure):
        return f"![{block.caption or block.name}]({figure_dir}/{block.name}.png)"
    if isinstance(block, Preformatted):
        return f"```\n{block.text}\n```"
    raise TypeError(f"unknown block {type(block).__name__}")


def render_markdown(
    title: str, sections: list[Section], figure_dir: str = "figures", footer: str = ""
) -> str:
    """Markdown with figures referenced as ``figure_dir/<name>.png``."""
    parts = [f"# {title}"]
    for section in sections:
        parts.append(f"## {section.title}")
        parts.extend(_md_block(b, figure_dir) for b in section.blocks)
    if footer:
        parts.append(f"---\n{footer}")
    return "\n\n".join(parts) + "\n"


def figures(sections: list[Section]) -> list[Figure]:
    """Every figure in the report, for writing the PNG files beside report.md."""
    return [b for s in sections for b in s.blocks if isinstance(b, Figure)]
