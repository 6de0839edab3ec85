"""Write a built report to disk: index.html (self-contained), report.md, CSV, PNG and SVG.

index.html embeds every PNG as base64, so the page opens from disk or from an MLflow
artifact view with nothing beside it; report.md links the PNG files next to it.
"""
from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

__all__ = ["Section", "Report", "write_report"]

_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:12px;margin:.6em 0}th,td{border:1px solid #ccc;padding:3px 6px;text-align:right}
th{background:#f3f3f3}td{white-space:nowrap}td:first-child,th:first-child{text-align:left}img{max-width:100%;margin:.5em 0}
.note{color:#8a5a00}.table-wrap{overflow-x:auto}code{background:#f3f3f3;padding:0 3px}"""


@dataclass
class Section:
    """One heading of the report: paragraphs, then tables, then figures (by name)."""

    title: str
    text: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)


@dataclass
class Report:
    """Everything to write. ``figures`` maps name -> (caption, matplotlib Figure)."""

    title: str
    intro: list[str]
    sections: list[Section]
    tables: dict[str, pd.DataFrame]
    figures: dict[str, tuple[str, object]]


def _fmt(value) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.0f}"
    return str(value)


def _markdown_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "_(empty)_"
    cells = [[_fmt(v).replace("|", "\\|") for v in row] for row in frame.itertuples(index=False)]
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells])


def _html_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<p><em>(empty)</em></p>"
    shown = frame.map(_fmt)
    return f'<div class="table-wrap">{shown.to_html(index=False, escape=True, border=0)}</div>'


def _save_figures(report: Report, out: Path) -> dict[str, bytes]:
    (out / "figures").mkdir(parents=True, exist_ok=True)
    pngs = {}
    for name, (_, fig) in report.figures.items():
        png = out / "figures" / f"{name}.png"
        fig.savefig(png, format="png", dpi=110)
        fig.savefig(out / "figures" / f"{name}.svg", format="svg")
        pngs[name] = png.read_bytes()
    return pngs


def write_report(report: Report, out: str | Path) -> list[Path]:
    """Write the report under ``out`` (created) and return the paths written."""
    out = Path(out)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    for name, frame in report.tables.items():
        frame.to_csv(out / "tables" / f"{name}.csv", index=False)
    pngs = _save_figures(report, out)
    md = [f"# {report.title}", *report.intro]
    body = [f"<h1>{html.escape(report.title)}</h1>", *(f"<p>{html.escape(p)}</p>" for p in report.intro)]
    for sec in report.sections:
        md.append(f"\n## {sec.title}\n")
        body.append(f"<h2>{html.escape(sec.title)}</h2>")
        for para in sec.text:
            md.append(para + "\n")
            body.append(f"<p>{html.escape(para)}</p>")
        for name in sec.tables:
            frame = report.tables[name]
            md += [f"Table `{name}` (tables/{name}.csv):\n", _markdown_table(frame), ""]
            body += [f"<h3>{html.escape(name)}</h3>", _html_table(frame)]
        for name in sec.figures:
            caption = report.figures[name][0]
            md.append(f"![{caption}](figures/{name}.png)\n")
            data = base64.b64encode(pngs[name]).decode("ascii")
            body.append(f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
                        f"<figcaption>{html.escape(caption)}</figcaption></figure>")
    (out / "report.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    page = (f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(report.title)}</title>'
            f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>\n")
    (out / "index.html").write_text(page, encoding="utf-8")
    written = [out / "index.html", out / "report.md"]
    written += sorted((out / "tables").glob("*.csv")) + sorted((out / "figures").glob("*"))
    return written
