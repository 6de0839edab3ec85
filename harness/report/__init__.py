"""Reports: pure functions of the MLflow records (see docs/architecture.md).

records (MLflow -> tidy frames) -> stats/tables -> figures/sections -> render (files).
Never imports :mod:`harness.train` or :mod:`harness.sweep`.
"""
from harness.report.generate import ReportRequest, ReportResult, generate_report
from harness.report.records import RecordsError

__all__ = ["ReportRequest", "ReportResult", "RecordsError", "generate_report"]
