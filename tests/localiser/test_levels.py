"""The canal's five levels decoded together: in order down the spine, one disc each, a level
outside the field of view left out and flagged, never given its neighbour's disc."""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.localiser.find import levels_together
from disc_grade.localiser.levels import candidates
from disc_grade.localiser.model import peak_point

SIZE = 32
DISCS = [5, 11, 17, 23, 29]  # grid rows of the five discs, 6 cells (6 mm) apart
SETTINGS = {
    "grid_size": SIZE,
    "min_peak": 0.5,
    "offsets": {"level_spacing_mm": 6.0, "level_spacing_mad_mm": 0.2},  # spread: 15% of 6 mm
}
GEOMETRY = pd.Series(
    {"columns": SIZE, "rows": SIZE, "pixel_spacing_col": 1.0, "pixel_spacing_row": 1.0}
)


def _map(*blobs: tuple[int, float]) -> np.ndarray:
    """A logit map with a blob (row, height) per entry, at column 16."""
    rr, cc = np.mgrid[:SIZE, :SIZE]
    out = np.full((SIZE, SIZE), -12.0)
    for row, height in blobs:
        out = np.maximum(out, height - ((rr - row) ** 2 + (cc - 16) ** 2) / 2.0)
    return out


def _decode(maps):
    return levels_together(maps, [peak_point(m) for m in maps], GEOMETRY, SETTINGS)


def test_two_levels_on_one_disc_are_decoded_to_five_ordered_discs():
    maps = [_map((row, 6.0)) for row in DISCS]
    maps[2] = _map((DISCS[1], 7.0), (DISCS[2], 3.0))  # L3/L4's strongest peak sits on L2/L3's disc
    alone = [round(peak_point(m)[1]) for m in maps]
    assert alone[1] == alone[2] == DISCS[1]  # each level alone: two levels on one disc
    points, doubt = _decode(maps)
    assert [round(p[1]) for p in points] == DISCS
    assert doubt[2] and not any(doubt[:2] + doubt[3:])  # the moved level is marked


def test_a_level_outside_the_field_of_view_gets_no_point_and_a_flag():
    maps = [_map((row, 6.0)) for row in DISCS]
    maps[0] = _map((DISCS[1], 6.5))  # L1/L2 out of view: its map lights up L2/L3's disc
    points, doubt = _decode(maps)
    assert points[0] is None and doubt[0]
    assert [round(p[1]) for p in points[1:]] == DISCS[1:]
    assert not any(doubt[1:])


def test_clean_maps_keep_every_own_peak_and_no_flag():
    maps = [_map((row, 6.0)) for row in DISCS]
    points, doubt = _decode(maps)
    assert [p[:2] for p in points] == [peak_point(m)[:2] for m in maps]
    assert not any(doubt)


def test_without_a_learnt_spacing_the_levels_are_only_ordered():
    maps = [_map((row, 6.0)) for row in reversed(DISCS)]  # maps out of order
    settings = {**SETTINGS, "offsets": {}}
    points, doubt = levels_together(maps, [peak_point(m) for m in maps], GEOMETRY, settings)
    assert [round(p[1]) for p in points] == DISCS and not any(doubt)


def test_candidates_start_at_the_maps_own_peak_and_stay_apart():
    found = candidates(_map((5, 6.0), (20, 4.0)), k=3)
    assert (found[0].gx, found[0].gy, found[0].conf) == peak_point(_map((5, 6.0), (20, 4.0)))
    assert round(found[1].gy) == 20
    assert all(
        abs(a.gy - b.gy) >= 3 or abs(a.gx - b.gx) >= 3
        for a, b in zip(found, found[1:], strict=False)
    )
