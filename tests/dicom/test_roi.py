"""The ROI cropper: centring, physical extent, padding, and neighbour slices."""

from __future__ import annotations

import numpy as np
import pytest

from disc_grade.dicom.roi import crop, crop_stack, neighbour_ranks, roi_centre


@pytest.mark.parametrize("x, y", [(40.0, 25.0), (5.0, 60.0), (70.3, 10.6)])
@pytest.mark.parametrize("size_px", [32, 33])
def test_labelled_point_lands_at_the_recorded_position(x, y, size_px):
    image = np.zeros((80, 90), dtype=np.float32)
    rows, cols = np.mgrid[0:80, 0:90]
    image += np.exp(-((cols - x) ** 2 + (rows - y) ** 2) / 2.0)  # a blob at (x, y)
    roi = crop(image, x, y, (0.8, 0.8), extent_mm=24.0, size_px=size_px, fill=0.0)
    peak = np.unravel_index(np.argmax(roi), roi.shape)
    centre = roi_centre(size_px)
    assert abs(peak[0] - centre) <= 0.5 and abs(peak[1] - centre) <= 0.5


def test_extent_is_physical_and_anisotropic_spacing_is_honoured():
    image = np.zeros((100, 100), dtype=np.float32)
    image[:, 60] = 1.0  # a vertical line 10 columns right of the centre column 50
    # columns 0.5 mm apart: the line is 5 mm right; ROI of 20 mm at 40 px: 0.5 mm per px -> 10 px right
    roi = crop(image, 50, 50, (1.0, 0.5), extent_mm=20.0, size_px=40, fill=0.0)
    assert int(np.argmax(roi[20])) == pytest.approx(roi_centre(40) + 10, abs=1)


def test_outside_the_image_is_filled():
    image = np.full((10, 10), 5.0, dtype=np.float32)
    roi = crop(image, 0, 0, (1.0, 1.0), extent_mm=10.0, size_px=10, fill=-1.0)
    assert roi[0, 0] == -1.0 and roi[-1, -1] == 5.0


def test_stack_is_normalised_by_the_range():
    slices = [np.full((8, 8), v, dtype=np.float32) for v in (10.0, 20.0, 30.0)]
    out = crop_stack(slices, 4, 4, (1, 1), 4.0, 4, (10.0, 30.0))
    assert out.shape == (3, 4, 4) and np.allclose(out[:, 1, 1], [0.0, 0.5, 1.0])


def test_neighbours_clamp_at_the_ends():
    assert neighbour_ranks(0, 5) == [0, 0, 1]
    assert neighbour_ranks(4, 5) == [3, 4, 4]
    assert neighbour_ranks(2, 5, 5) == [0, 1, 2, 3, 4]


def test_bad_crop_arguments_are_named():
    with pytest.raises(ValueError, match="extent_mm=0"):
        crop(np.zeros((4, 4)), 1, 1, (1, 1), extent_mm=0, size_px=4, fill=0)


def test_bilinear_crop_matches_scipy_map_coordinates():
    from scipy.ndimage import map_coordinates

    rng = np.random.default_rng(0)
    image = rng.random((40, 50)).astype(np.float32)
    x, y, spacing, extent, size = 3.3, 37.8, (0.7, 0.9), 30.0, 24  # straddles two borders
    ours = crop(image, x, y, spacing, extent, size, fill=-2.0)
    offsets = (np.arange(size) - roi_centre(size)) * extent / size
    rr, cc = np.meshgrid(y + offsets / spacing[0], x + offsets / spacing[1], indexing="ij")
    inside = (rr >= 0) & (rr <= 39) & (cc >= 0) & (cc <= 49)
    reference = map_coordinates(image, [rr, cc], order=1, mode="constant", cval=-2.0)
    assert np.allclose(ours[inside], reference[inside], atol=1e-5)
    assert np.all(ours[(rr < -1) | (cc < -1) | (rr > 40) | (cc > 50)] == -2.0)
