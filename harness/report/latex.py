"""A displayed table -> a LaTeX ``booktabs`` tabular, ready to ``\\input`` in a paper."""
from __future__ import annotations

import pandas as pd

from harness.report.present import MISSING

__all__ = ["booktabs"]

_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
# Symbols the report uses that plain pdflatex does not know in text mode.
_SYMBOLS = {"−": "$-$", "×": r"$\times$", "Δ": r"$\Delta$", "∞": r"$\infty$", MISSING: "--",
            "–": "--", "·": r"$\cdot$", "≤": r"$\leq$"}


def _tex(text: str) -> str:
    out = "".join(_ESCAPES.get(ch, ch) for ch in str(text))
    for symbol, tex in _SYMBOLS.items():
        out = out.replace(symbol, tex)
    return out


def booktabs(shown: pd.DataFrame, caption: str = "") -> str:
    """``shown`` (strings, human labels) as a booktabs tabular; first column left-aligned."""
    align = "l" + "r" * (len(shown.columns) - 1)
    lines = [f"% {_tex(caption)}" if caption else "", rf"\begin{{tabular}}{{{align}}}", r"\toprule",
             " & ".join(_tex(c) for c in shown.columns) + r" \\", r"\midrule"]
    lines += [" & ".join(_tex(v) for v in row) + r" \\" for row in shown.itertuples(index=False)]
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(line for line in lines if line) + "\n"
