"""Each scanner site changes what it claims to, and the headers name the site as the sidecar does."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from disc_grade.phantom.anatomy import PhantomConfig, draw_study
from disc_grade.phantom.render import compose_sagittal, sagittal_masks
from disc_grade.phantom.scanner import apply_scanner
from disc_grade.phantom.sites import SITES

CONFIG = PhantomConfig()


def _study_of(site: str):
    for index in range(500):
        spec = draw_study(CONFIG, index)
        if spec.site == site:
            return spec
    raise AssertionError(f"no study of site {site}")


def _quiet(spec):
    """The spec with the scanner's other effects off, to look at one at a time."""
    return replace(
        spec,
        blur_mm=0.0,
        contrast_gamma=1.0,
        noise_sigma=0.0,
        ghost=0.0,
        bias_coeffs=(0.0,) * 5,
        intensity_scale=1000.0,
    )


@pytest.mark.parametrize("site", sorted(SITES))
def test_studies_draw_within_their_sites_ranges(site):
    profile = SITES[site]
    specs = [s for s in (draw_study(CONFIG, i) for i in range(200)) if s.site == site]
    assert specs, f"the default weights give site {site} no study in 200"
    for spec in specs:
        assert profile.gamma[0] <= spec.contrast_gamma <= profile.gamma[1]
        assert profile.noise[0] <= spec.noise_sigma <= profile.noise[1]
        assert profile.slice_spacing_mm[0] <= spec.slice_spacing <= profile.slice_spacing_mm[1]
        assert max(abs(c) for c in spec.bias_coeffs) <= profile.bias
        assert spec.fat_suppressed == profile.fat_suppressed and spec.ghost == profile.ghost
    mean_size = np.mean([s.rows for s in specs])
    assert mean_size == pytest.approx(CONFIG.image_size * profile.resolution, rel=0.12)


def test_fat_suppression_darkens_fat_against_csf():
    spec = _study_of("A")
    masks = sagittal_masks(spec)
    fat = masks["fat"] > 0.9
    plain = compose_sagittal(spec, masks, 0.0, "T2")
    stir = compose_sagittal(replace(spec, fat_suppressed=True), masks, 0.0, "T2")
    csf = masks["csf"] > 0.9
    assert plain[fat].mean() / plain[csf].mean() > 0.5
    assert stir[fat].mean() / stir[csf].mean() < 0.15


def test_noise_scales_with_the_sites_sigma():
    flat = np.full((64, 64), 0.5, dtype=np.float32)
    spreads = {}
    for site in ("A", "E"):
        spec = replace(_quiet(_study_of(site)), noise_sigma=float(np.mean(SITES[site].noise)))
        spreads[site] = apply_scanner(spec, flat, np.random.default_rng(0), 1.0).std()
    assert spreads["E"] > 2 * spreads["A"]


def test_the_ghost_is_a_shifted_copy_only_where_the_site_has_one():
    image = np.zeros((60, 60), dtype=np.float32)
    image[20:30, 5:15] = 1.0
    for site in ("A", "E"):
        spec = replace(_quiet(_study_of(site)), ghost=SITES[site].ghost)
        out = apply_scanner(spec, image, np.random.default_rng(0), 1.0).astype(float)
        ghost_region = out[20:30, 25:35].mean() / out[20:30, 5:15].mean()
        assert ghost_region == pytest.approx(SITES[site].ghost, abs=0.01)


def test_the_bias_field_bends_a_flat_image_only_by_its_coefficients():
    flat = np.full((64, 64), 0.5, dtype=np.float32)
    spec = _quiet(_study_of("D"))
    assert np.ptp(apply_scanner(spec, flat, np.random.default_rng(0), 1.0)) <= 1
    bent = apply_scanner(
        replace(spec, bias_coeffs=(0.3, 0, 0, 0, 0)), flat, np.random.default_rng(0), 1.0
    )
    assert bent[:, -1].mean() / bent[:, 0].mean() == pytest.approx(np.exp(0.6), rel=0.02)


def test_headers_name_each_studys_site_as_the_sidecar_does(small_cohort):
    import pydicom

    root, specs, _ = small_cohort
    truth = pd.read_csv(root / "phantom_truth.csv").groupby("study_id")["site"].first()
    for spec in specs:
        first = next((root / "train_images" / str(spec.study_id)).rglob("*.dcm"))
        model = pydicom.dcmread(first, stop_before_pixels=True).ManufacturerModelName
        assert model == SITES[truth[spec.study_id]].model
