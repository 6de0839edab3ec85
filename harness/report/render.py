"""Write a built report to disk: index.html (self-contained), report.md, verdict.txt, CSV,
LaTeX (booktabs), and every figure as PNG, SVG and PDF.

index.html embeds every PNG as base64, so the page opens from disk or from an MLflow
artifact view with nothing beside it; report.md links the PNG files next to it. Tables are
shown through :func:`harness.report.present.display`; the CSV files keep machine columns.
"""
from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from harness.report.latex import booktabs
from harness.report.present import TITLES, display

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from harness.report.verdict import Verdict

__all__ = ["Section", "Report", "write_report", "LATEX_TABLES"]

LATEX_TABLES = ("headline", "summary")
FIGURE_FORMATS = ("png", "svg", "pdf")

# No horizontal scroll at 1280 px: the body is narrower than the window and table cells wrap.
_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.4}\n"
    "table{border-collapse:collapse;font-size:13px;margin:.6em 0;max-width:100%}\n"
    "th,td{border:1px solid #ccc;padding:3px 6px;text-align:right;overflow-wrap:anywhere}\n"
    "th{background:#f3f3f3;font-weight:600}td:first-child,th:first-child{text-align:left}\n"
    "img{max-width:100%;height:auto;margin:.5em 0}figure{margin:0}figcaption{font-size:13px;color:#555}\n"
    ".verdict{background:#f4f8ff;border-left:4px solid #3b6fd4;padding:.4em 1em;margin:1em 0}\n"
    ".verdict li{margin:.4em 0}.skipped{color:#666;font-style:italic}p,li{overflow-wrap:anywhere}"
    "code{background:#f3f3f3;padding:0 3px;overflow-wrap:anywhere}"
)


@dataclass
class Section:
    """One heading: paragraphs, tables (by name), figures (by name), and what was left out why."""

    title: str
    text: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


@dataclass
class Report:
    """Everything to write. ``figures`` maps name -> (caption, matplotlib Figure)."""

    title: str
    intro: list[str]
    sections: list[Section]
    tables: dict[str, pd.DataFrame]
    figures: dict[str, tuple[str, Figure]]
    verdict: list[Verdict] = field(default_factory=list)
    verdict_notes: list[str] = field(default_factory=list)
    single_dataset: bool = True


def _markdown_table(shown: pd.DataFrame) -> str:
    if shown.empty:
        return "_(no rows)_"
    cells = [[str(v).replace("|", "\\|") for v in row] for row in shown.itertuples(index=False)]
    lines = ["| " + " | ".join(map(str, shown.columns)) + " |", "|" + "---|" * len(shown.columns)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells])


def _html_table(shown: pd.DataFrame) -> str:
    if shown.empty:
        return "<p><em>(no rows)</em></p>"
    return str(shown.to_html(index=False, escape=True, border=0))


def _save_figures(report: Report, out: Path) -> dict[str, bytes]:
    (out / "figures").mkdir(parents=True, exist_ok=True)
    pngs = {}
    for name, (_, fig) in report.figures.items():
        for fmt in FIGURE_FORMATS:
            fig.savefig(out / "figures" / f"{name}.{fmt}", format=fmt, dpi=110)
        pngs[name] = (out / "figures" / f"{name}.png").read_bytes()
    return pngs


def _verdict_blocks(report: Report) -> tuple[list[str], list[str], str]:
    md = ["\n## Verdict\n", *(f"- **{v.lead}**: {v.text}" for v in report.verdict), *report.verdict_notes, ""]
    items = "".join(f"<li><strong>{html.escape(v.lead)}</strong>: {html.escape(v.text)}</li>" for v in report.verdict)
    notes = "".join(f"<p>{html.escape(n)}</p>" for n in report.verdict_notes)
    body = [f'<section class="verdict" id="verdict"><h2>Verdict</h2><ul>{items}</ul>{notes}</section>']
    text = "\n".join([*(v.plain() for v in report.verdict), *report.verdict_notes]) + "\n"
    return md, body, text


def write_report(report: Report, out: str | Path) -> list[Path]:
    """Write the report under ``out`` (created) and return the paths written."""
    out = Path(out)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    shown = {name: display(name, frame, drop_dataset=report.single_dataset) for name, frame in report.tables.items()}
    for name, frame in report.tables.items():
        frame.to_csv(out / "tables" / f"{name}.csv", index=False)
    for name in LATEX_TABLES:
        if name in shown:
            (out / "tables" / f"{name}.tex").write_text(booktabs(shown[name], TITLES.get(name, name)), encoding="utf-8")
    pngs = _save_figures(report, out)
    md_verdict, html_verdict, verdict_text = _verdict_blocks(report)
    md = [f"# {report.title}", *md_verdict, *report.intro]
    body = [f"<h1>{html.escape(report.title)}</h1>", *html_verdict, *(f"<p>{html.escape(p)}</p>" for p in report.intro)]
    for sec in report.sections:
        md.append(f"\n## {sec.title}\n")
        body.append(f"<h2>{html.escape(sec.title)}</h2>")
        for para in sec.text:
            md.append(para + "\n")
            body.append(f"<p>{html.escape(para)}</p>")
        for name in sec.tables:
            title = TITLES.get(name, name.replace("_", " "))
            md += [f"**{title}** (tables/{name}.csv):\n", _markdown_table(shown[name]), ""]
            body += [f"<h3>{html.escape(title)}</h3>", _html_table(shown[name])]
        for name in sec.figures:
            caption = report.figures[name][0]
            md.append(f"![{caption}](figures/{name}.png)\n")
            data = base64.b64encode(pngs[name]).decode("ascii")
            body.append(f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
                        f"<figcaption>{html.escape(caption)} (also figures/{name}.pdf)</figcaption></figure>")
        for line in sec.skipped:
            md.append(f"_{line}_\n")
            body.append(f'<p class="skipped">{html.escape(line)}</p>')
    (out / "report.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    (out / "verdict.txt").write_text(verdict_text, encoding="utf-8")
    page = (f'<!doctype html><html><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(report.title)}</title><style>{_CSS}</style></head><body>{''.join(body)}</body></html>\n")
    (out / "index.html").write_text(page, encoding="utf-8")
    written = [out / "index.html", out / "report.md", out / "verdict.txt"]
    written += sorted((out / "tables").glob("*")) + sorted((out / "figures").glob("*"))
    return written
