"""The facial contours whose edge maps STAR's AAM heads predict, per landmark scheme.

Each edge is (closed, landmark indices in drawing order), 0-based in the benchmark's own
annotation order. The groupings are those of STAR's ``conf/alignment.py`` (WFLW 9 edges,
300W 9, COFW 7); a landmark on no edge (WFLW's pupils, COFW's nose tip and chin) keeps a
constant 1 in the edge-to-landmark mask (:class:`harness.mm.hourglass.EdgeToPoint`).
"""
from __future__ import annotations

__all__ = ["Edge", "AAM_EDGES", "edges_for"]

Edge = tuple[bool, tuple[int, ...]]


def _run(start: int, stop: int) -> tuple[int, ...]:
    return tuple(range(start, stop))


AAM_EDGES: dict[str, tuple[Edge, ...]] = {
    "wflw": (
        (False, _run(0, 33)),    # face contour
        (True, _run(33, 42)),    # right eyebrow
        (True, _run(42, 51)),    # left eyebrow
        (False, _run(51, 55)),   # nose bridge
        (False, _run(55, 60)),   # nostrils
        (True, _run(60, 68)),    # right eye
        (True, _run(68, 76)),    # left eye
        (True, _run(76, 88)),    # outer lip
        (True, _run(88, 96)),    # inner lip
    ),
    "300w": (
        (False, _run(0, 17)),
        (False, _run(17, 22)),
        (False, _run(22, 27)),
        (False, _run(27, 31)),
        (False, _run(31, 36)),
        (True, _run(36, 42)),
        (True, _run(42, 48)),
        (True, _run(48, 60)),
        (True, _run(60, 68)),
    ),
    # COFW's points alternate between the two sides, hence the explicit orders.
    "cofw": (
        (True, (0, 4, 2, 5)),
        (True, (1, 6, 3, 7)),
        (True, (8, 12, 10, 13)),
        (False, (9, 14, 11, 15)),
        (True, (18, 20, 19, 21)),
        (True, (22, 26, 23, 27)),
        (True, (22, 24, 23, 25)),
    ),
}


def edges_for(scheme: str) -> tuple[Edge, ...]:
    """The AAM edges of ``scheme`` ("wflw", "300w", "cofw")."""
    if scheme not in AAM_EDGES:
        raise ValueError(f"no AAM edges for scheme {scheme!r} (known: {sorted(AAM_EDGES)})")
    return AAM_EDGES[scheme]
