"""The five levels of a study decoded together, as a reader counts discs down the spine.

Each level's heatmap offers a few candidate points (its strongest local maxima); a dynamic
programme picks at most one per level so that the picked points run down the spine in level
order, each gap is plausible for the spacing learnt from the training split's labelled points
(``alignment.targets.anatomy_offsets``: ``level_spacing_mm``, in patient mm), and the summed
log-confidence is highest. A level may be left out (at a cost): a disc outside the field of
view gets no point rather than its neighbour's. A level whose pick is far
from its own peak, whose gap to a neighbour is implausible, or that was left out although its own
peak was confident, is marked ``uncertain``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from disc_grade.localiser.model import peak_point

MIN_GAP = 0.5  # a gap below half the expected spacing is two levels on one disc: never picked
PLAUSIBLE = (0.6, 1.6)  # a gap outside these multiples of the expected spacing is uncertain
SKIP_NATS = 10.0  # what leaving a level out costs beyond log(min_peak): only to keep the order


@dataclass(frozen=True)
class Candidate:
    """A point on a level's map: grid x, grid y, confidence."""

    gx: float
    gy: float
    conf: float


def candidates(logit_map: np.ndarray, k: int = 4, radius: int = 3) -> list[Candidate]:
    """The ``k`` strongest local maxima of a logit map [S, S] (each refined as ``peak_point``
    refines it), every later one at least ``radius`` cells from the earlier; the first is the
    map's own peak."""
    work = np.array(logit_map, dtype=float, copy=True)
    out = []
    for _ in range(k):
        r, c = np.unravel_index(int(np.argmax(work)), work.shape)
        if not np.isfinite(work[r, c]):
            break
        window = np.full_like(work, -np.inf)
        r0, r1, c0, c1 = max(r - 2, 0), r + 3, max(c - 2, 0), c + 3
        window[r0:r1, c0:c1] = logit_map[r0:r1, c0:c1]
        gx, gy, conf = peak_point(window)
        out.append(Candidate(gx, gy, conf))
        work[max(r - radius, 0) : r + radius + 1, max(c - radius, 0) : c + radius + 1] = -np.inf
    return out


def _gap(a: Candidate, b: Candidate, mm_per_cell: tuple[float, float]) -> float:
    return float(np.hypot((b.gx - a.gx) * mm_per_cell[0], (b.gy - a.gy) * mm_per_cell[1]))


def _step(a, b, steps, mm_per_cell, spacing_mm, spread_mm) -> float | None:
    """The log-score of going from ``a`` to ``b`` ``steps`` levels further down, or None where
    it breaks the order or puts two levels on one disc."""
    gap = _gap(a, b, mm_per_cell)
    if b.gy <= a.gy or gap < MIN_GAP * spacing_mm * steps:
        return None
    return -0.5 * ((gap / steps - spacing_mm) / spread_mm) ** 2


def decode(
    options: list[list[Candidate]],
    mm_per_cell: tuple[float, float],
    spacing_mm: float,
    spread_mm: float,
    min_peak: float,
) -> list[Candidate | None]:
    """One candidate (or None) per level, in level order, maximising the summed
    log-confidences and spacing terms (``_step``) over the candidates at least ``min_peak``
    confident; None scores ``log(min_peak) - SKIP_NATS``, so a confident level is left out only
    where keeping it would break the order or the spacing far more than that."""
    skip = float(np.log(min_peak)) - SKIP_NATS
    options = [[c for c in own if c.conf >= min_peak] for own in options]
    n = len(options)
    # best[l][j]: the best score of a path ending at level l, candidate j; back: its predecessor
    best: list[list[float]] = []
    back: list[list[tuple[int, int] | None]] = []
    for level, own in enumerate(options):
        best.append([])
        back.append([])
        for cand in own:
            gain = float(np.log(max(cand.conf, 1e-9)))
            score, came = level * skip + gain, None
            for prev in range(level):
                for j, before in enumerate(options[prev]):
                    step = _step(before, cand, level - prev, mm_per_cell, spacing_mm, spread_mm)
                    if step is None:
                        continue
                    total = best[prev][j] + (level - prev - 1) * skip + step + gain
                    if total > score:
                        score, came = total, (prev, j)
            best[level].append(score)
            back[level].append(came)
    ends = [
        (best[lv][j] + (n - 1 - lv) * skip, lv, j)
        for lv in range(n)
        for j in range(len(options[lv]))
    ]
    picked: list[Candidate | None] = [None] * n
    if not ends or max(ends)[0] < n * skip:
        return picked
    _, level, j = max(ends)
    while True:
        picked[level] = options[level][j]
        came = back[level][j]
        if came is None:
            return picked
        level, j = came


def uncertain(
    picked: list[Candidate | None],
    options: list[list[Candidate]],
    mm_per_cell: tuple[float, float],
    spacing_mm: float,
    min_peak: float,
) -> list[bool]:
    """Per level whether its point is in doubt: moved more than half a spacing from its own
    peak, left out although its own peak was confident, or a gap to its picked neighbour
    outside ``PLAUSIBLE`` times the expected spacing."""
    out = []
    for level, (pick, own) in enumerate(zip(picked, options, strict=True)):
        peak = own[0] if own else None
        if pick is None:
            out.append(peak is not None and peak.conf >= min_peak)
            continue
        moved = peak is not None and _gap(peak, pick, mm_per_cell) > 0.5 * spacing_mm
        gaps = []
        for other in range(len(picked)):
            if other != level and picked[other] is not None:
                steps = abs(other - level)
                gaps.append((_gap(picked[other], pick, mm_per_cell) / steps, steps))
        nearest = [g for g, s in gaps if s == min(s for _, s in gaps)] if gaps else []
        odd = any(not PLAUSIBLE[0] * spacing_mm <= g <= PLAUSIBLE[1] * spacing_mm for g in nearest)
        out.append(bool(moved or odd))
    return out
