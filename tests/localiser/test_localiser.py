from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from disc_grade.localiser.data import from_grid_coords, to_grid_coords
from disc_grade.localiser.model import decode, heatmaps, network_input
from disc_grade.localiser.train import localiser_metrics
from disc_grade.rsna import LEVELS


@pytest.mark.parametrize("columns, rows, size", [(256, 256, 96), (320, 240, 128), (97, 131, 64)])
def test_grid_coordinates_round_trip(columns, rows, size):
    x, y = np.array([0.0, 17.3, columns - 1]), np.array([rows - 1, 5.5, 0.0])
    gx, gy = to_grid_coords(x, y, columns, rows, size)
    back = from_grid_coords(gx, gy, columns, rows, size)
    assert np.allclose(back[0], x) and np.allclose(back[1], y)


def test_decode_finds_subpixel_peaks_and_orders_levels_down_the_spine():
    size = 48
    truth = torch.tensor([[[20.3, 8.0], [21.0, 16.6], [22.0, 25.0], [23.0, 33.2], [24.5, 41.0]]])
    logits = torch.log(heatmaps(truth, size, 1.5)[0] + 1e-6) + 5
    shuffled = logits[[2, 0, 1, 4, 3]].numpy()  # channels out of order
    points, peaks = decode(shuffled)
    assert np.allclose(points, truth[0].numpy(), atol=0.25)  # arg-max alone is off by up to 0.5
    assert (peaks > 0.99).all()


def test_heatmaps_are_zero_for_missing_levels():
    points = torch.tensor([[[10.0, 10.0], [float("nan"), float("nan")]]])
    maps = heatmaps(points, 32, 2.0)
    assert maps[0, 0].max() == pytest.approx(1.0) and maps[0, 1].abs().max() == 0


def test_network_input_clamps_neighbours_within_the_series():
    grids = torch.arange(5).float().view(5, 1, 1).expand(5, 8, 8)
    x = network_input(grids, torch.tensor([0, 0]), torch.tensor([0, 4]), torch.tensor([5, 5]))
    assert x.shape == (2, 4, 8, 8)
    assert x[0, :3, 0, 0].tolist() == [0, 0, 1] and x[1, :3, 0, 0].tolist() == [3, 4, 4]


def test_localiser_metrics_by_hand():
    discs = pd.DataFrame(
        {
            "study_id": 1,
            "series_id": 2,
            "level": list(LEVELS),
            "x": 50.0,
            "y": [10.0, 30, 50, 70, 90],
            "slice_rank": 5,
            "pixel_spacing_row": 0.5,
            "pixel_spacing_col": 0.5,
        }
    )
    predicted = discs[["study_id", "series_id", "level"]].assign(
        x=[50.0, 50, 50, 50, 56], y=[10.0, 34, 50, 70, 90], slice_rank=[6] * 5, peak=1.0
    )
    # swap two levels' predictions: both become wrongly assigned
    predicted.loc[[2, 3], "y"] = [70.0, 50.0]
    metrics, per_disc = localiser_metrics(predicted, discs)
    assert metrics["level_assignment_accuracy"] == pytest.approx(3 / 5)
    assert per_disc["error_mm"].tolist() == pytest.approx([0, 2, 10, 10, 3])
    assert metrics["median_error_mm"] == pytest.approx(3) and metrics["slice_within_one"] == 1.0
