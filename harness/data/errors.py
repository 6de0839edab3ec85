"""The one exception of the data layer.

A ``DataError`` message is a single line naming the file and, when there is one, the
record (image id, list line, .pts file, MATLAB index), so a user can find the culprit
without a traceback. It subclasses ``ValueError`` so generic callers still catch it.
"""
from __future__ import annotations

__all__ = ["DataError"]


class DataError(ValueError):
    """Bad input data: ``DataError(path, "what is wrong", record="image 12")``."""

    def __init__(self, path: object, problem: str, *, record: str | None = None) -> None:
        self.path = str(path)
        self.problem = problem
        self.record = record
        where = f"{self.path}: {record}: " if record else f"{self.path}: "
        # Messages are one line by contract; collapse anything a caller passed in.
        super().__init__((where + problem).replace("\n", " "))
