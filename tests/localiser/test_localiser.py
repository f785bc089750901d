from __future__ import annotations

import numpy as np
import pytest
import torch

from disc_grade.localiser.data import from_grid_coords, to_grid_coords
from disc_grade.localiser.find import ordered_down_the_spine
from disc_grade.localiser.model import heatmaps, network_input, peak_point


@pytest.mark.parametrize("columns, rows, size", [(256, 256, 96), (320, 240, 128), (97, 131, 64)])
def test_grid_coordinates_round_trip(columns, rows, size):
    x, y = np.array([0.0, 17.3, columns - 1]), np.array([rows - 1, 5.5, 0.0])
    gx, gy = to_grid_coords(x, y, columns, rows, size)
    back = from_grid_coords(gx, gy, columns, rows, size)
    assert np.allclose(back[0], x) and np.allclose(back[1], y)


def test_peaks_are_found_below_a_pixel_and_levels_ordered_down_the_spine():
    size = 48
    truth = torch.tensor([[[20.3, 8.0], [21.0, 16.6], [22.0, 25.0], [23.0, 33.2], [24.5, 41.0]]])
    logits = (torch.log(heatmaps(truth, size, 1.5)[0] + 1e-6) + 5).numpy()
    peaks = [peak_point(m) for m in logits[[2, 0, 1, 4, 3]]]  # channels out of order
    points = np.array([p[:2] for p in ordered_down_the_spine(peaks, min_peak=0.5)])
    assert np.allclose(points, truth[0].numpy(), atol=0.25)  # arg-max alone is off by up to 0.5
    assert all(p[2] > 0.99 for p in peaks)
    # a level without a confident point keeps its place; the confident ones are ordered
    unsure = [(1.0, 30.0, 0.9), (0.0, 0.0, 0.1), (1.0, 10.0, 0.9)]
    assert ordered_down_the_spine(unsure, 0.5) == [
        (1.0, 10.0, 0.9),
        (0.0, 0.0, 0.1),
        (1.0, 30.0, 0.9),
    ]


def test_heatmaps_are_zero_for_missing_levels():
    points = torch.tensor([[[10.0, 10.0], [float("nan"), float("nan")]]])
    maps = heatmaps(points, 32, 2.0)
    assert maps[0, 0].max() == pytest.approx(1.0) and maps[0, 1].abs().max() == 0


def test_network_input_clamps_neighbours_within_the_series():
    grids = torch.arange(5).float().view(5, 1, 1).expand(5, 8, 8)
    x = network_input(grids, torch.tensor([0, 0]), torch.tensor([0, 4]), torch.tensor([5, 5]))
    assert x.shape == (2, 4, 8, 8)
    assert x[0, :3, 0, 0].tolist() == [0, 0, 1] and x[1, :3, 0, 0].tolist() == [3, 4, 4]
