"""The foramina and lateral recesses: rendered per side, narrowed by their own latent, and
placed so that geometry (not instance order) finds their side and level."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pydicom
import pytest

from disc_grade.dicom.axial_levels import axial_slice_levels
from disc_grade.dicom.laterality import side_of
from disc_grade.phantom.anatomy import LEVELS, PhantomConfig, draw_cohort, draw_study
from disc_grade.phantom.axial import recess_masks
from disc_grade.phantom.axial_layout import axial_slices, disc_centre_patient
from disc_grade.phantom.foramina import foramen_masks
from disc_grade.phantom.spine import image_to_local, spine_layout
from disc_grade.phantom.tables import coordinates_table
from disc_grade.rsna import LEVEL_FROM_NAME


@pytest.mark.parametrize(
    "family, prior", [("foraminal", (0.78, 0.181, 0.04)), ("subarticular", (0.714, 0.19, 0.096))]
)
def test_grade_frequencies_follow_each_family_prior(family, prior):
    specs = draw_cohort(PhantomConfig(n_studies=500, seed=3))
    conditions = [c for c in specs[0].severity if family in c]
    grades = np.array([[s.severity[c][lv] for c in conditions for lv in LEVELS] for s in specs])
    share = np.bincount(grades.ravel(), minlength=3) / grades.size
    np.testing.assert_allclose(share, prior, atol=0.02)


def _foramen_fat(spec, side: str, level_index: int) -> float:
    ps = spec.pixel_spacing
    yy, xx = np.mgrid[0 : spec.rows, 0 : spec.columns].astype(np.float32) * ps
    u, v = image_to_local(spec, xx, yy)
    layout = spine_layout(spec)
    fat, _ = foramen_masks(spec, u, v, layout, side)
    near = np.abs(v - layout.disc_centres[level_index]) < 12.0
    return float(fat[near].sum() * ps * ps)


def test_foramen_fat_follows_its_own_sides_narrowing():
    spec = draw_study(PhantomConfig(), 7)
    open_side = {s: (0.05,) * 5 for s in ("left", "right")}
    healthy = spec.__class__(**{**spec.__dict__, "foraminal_narrowing": open_side})
    narrowed = {"left": (0.05, 0.05, 0.05, 0.8, 0.05), "right": (0.05,) * 5}
    sick = spec.__class__(**{**spec.__dict__, "foraminal_narrowing": narrowed})
    k = LEVELS.index("l4_l5")
    assert _foramen_fat(sick, "left", k) < 0.5 * _foramen_fat(healthy, "left", k)
    assert _foramen_fat(sick, "right", k) == pytest.approx(_foramen_fat(healthy, "right", k))
    assert _foramen_fat(sick, "left", 0) == pytest.approx(_foramen_fat(healthy, "left", 0))


def test_recess_loses_csf_as_it_narrows():
    yy, xx = np.mgrid[-20:20:0.25, -20:20:0.25]
    areas = [float(recess_masks(xx, yy, n, +1.0)[0].sum()) for n in (0.0, 0.3, 0.6, 0.9)]
    assert all(a > b for a, b in zip(areas, areas[1:], strict=False)), areas
    left = recess_masks(xx, yy, 0.0, +1.0)[0]
    assert (left * (xx < 0)).sum() < 1e-3 * left.sum(), "the left recess lies at patient left (+x)"


@pytest.mark.parametrize("index", range(12))
def test_axial_levels_recovered_from_geometry(index):
    config = PhantomConfig()
    spec = draw_study(config, index)
    slices = pd.DataFrame(
        [
            {
                "series_id": s.series_id,
                "instance_number": s.instance_number,
                "truth": None if s.between else LEVELS[s.level_index],
                **dict(zip(["ipp_x", "ipp_y", "ipp_z"], s.position, strict=True)),
                **{f"iop_{i}": c for i, c in enumerate(s.orientation)},
            }
            for s in axial_slices(spec, config)
        ]
    ).sample(frac=1.0, random_state=index)  # file order says nothing
    centres = np.stack([disc_centre_patient(spec, k) for k in range(len(LEVELS))])
    discs = pd.DataFrame(
        {"level": LEVELS, "px": centres[:, 0], "py": centres[:, 1], "pz": centres[:, 2]}
    )
    levelled = axial_slice_levels(slices, discs, max_distance_mm=8.0)
    assert (levelled["level"].fillna("between") == levelled["truth"].fillna("between")).all()
    if spec.second_axial_from is not None:
        assert levelled["series_id"].nunique() == 2
    # every subarticular label sits on a slice that geometry puts at the label's level
    coords = coordinates_table([spec], config)
    marked = coords[coords["condition"].str.contains("Subarticular")].merge(
        levelled, on=["series_id", "instance_number"], how="left", validate="m:1"
    )
    assert len(marked) == 10 - sum("subarticular" in c for c in spec.blank_cells)
    assert (marked["level_x"].map(LEVEL_FROM_NAME) == marked["level_y"]).all()


def test_second_axial_series_and_between_slices_are_planted():
    specs = draw_cohort(PhantomConfig(n_studies=60))
    assert specs[6].second_axial_from is not None
    assert any(s.between_slices for s in specs) and not all(s.between_slices for s in specs)


def test_labelled_points_lie_on_their_side_by_geometry(small_cohort):
    root, specs, _ = small_cohort
    coords = pd.read_csv(root / "train_label_coordinates.csv")
    lateral = coords[coords["condition"].str.contains("Left|Right")]
    assert len(lateral) > 0
    reversed_study = next(s.study_id for s in specs if s.reversed_instances)
    assert reversed_study in set(lateral["study_id"])
    for row in lateral.itertuples():
        ds = pydicom.dcmread(
            root
            / "train_images"
            / str(row.study_id)
            / str(row.series_id)
            / f"{row.instance_number}.dcm",
            stop_before_pixels=True,
        )
        iop = np.asarray(ds.ImageOrientationPatient, dtype=float)
        spacing = np.asarray(ds.PixelSpacing, dtype=float)
        x = float(
            ds.ImagePositionPatient[0] + row.x * spacing[1] * iop[0] + row.y * spacing[0] * iop[3]
        )
        assert side_of(x, 0.0, tolerance_mm=2.0) == row.condition.split()[0].lower(), row


def test_parasagittal_slices_show_their_own_sides_foramen():
    from disc_grade.phantom.render import compose_sagittal, sagittal_masks

    spec = draw_study(PhantomConfig(), 8)
    narrowed = {"left": (0.85,) * 5, "right": (0.05,) * 5}
    spec = spec.__class__(**{**spec.__dict__, "foraminal_narrowing": narrowed})
    masks = sagittal_masks(spec)
    # the region the healthy foramina occupy, at every level
    region = np.maximum(masks["foramen_fat_right"], 0) > 0.5
    left = compose_sagittal(spec, masks, +spec.foramen_lateral_mm[0], "T1")[region].mean()
    right = compose_sagittal(spec, masks, -spec.foramen_lateral_mm[1], "T1")[region].mean()
    assert right > left + 0.1, (left, right)  # fat (bright on T1) is lost on the narrowed left


def test_axial_slice_shows_its_own_sides_recess():
    from disc_grade.phantom.axial import render_axial
    from disc_grade.phantom.axial_layout import axial_geometry
    from disc_grade.phantom.tables import SUBARTICULAR_ANTERIOR_MM

    base = draw_study(PhantomConfig(), 9)
    size, spacing = axial_geometry(base)
    k = LEVELS.index("l4_l5")

    def recess_signal(left: float, side_sign: float) -> float:
        narrowing = {"left": (left,) * 5, "right": (0.05,) * 5}
        spec = base.__class__(**{**base.__dict__, "recess_narrowing": narrowing})
        img = render_axial(spec, k, size, spacing, np.random.default_rng(0))
        c = (size - 1) / 2
        col = int(round(c + side_sign * base.recess_lateral_mm / spacing))
        row = int(round(c - SUBARTICULAR_ANTERIOR_MM / spacing))
        r = max(1, int(2.0 / spacing))
        return float(img[row - r : row + r + 1, col - r : col + r + 1].mean())

    assert recess_signal(0.85, +1.0) < 0.8 * recess_signal(0.05, +1.0)  # CSF lost on the left
    assert recess_signal(0.85, -1.0) == pytest.approx(recess_signal(0.05, -1.0))


def test_foramina_lie_where_the_studys_anatomy_puts_them_and_show_best_on_their_plane():
    from disc_grade.phantom.anatomy import FORAMEN_LATERAL_RANGE_MM, RECESS_LATERAL_RANGE_MM
    from disc_grade.phantom.render import compose_sagittal, sagittal_masks

    specs = [draw_study(PhantomConfig(), i) for i in range(12)]
    left = [s.foramen_lateral_mm[0] for s in specs]
    recess = [s.recess_lateral_mm for s in specs]
    # anatomy varies by study, so no single offset from the canal finds every foramen
    assert np.ptp(left) > 1.5 and np.ptp(recess) > 1.0
    assert FORAMEN_LATERAL_RANGE_MM[0] <= min(left) <= max(left) <= FORAMEN_LATERAL_RANGE_MM[1]
    assert RECESS_LATERAL_RANGE_MM[0] <= min(recess) <= max(recess) <= RECESS_LATERAL_RANGE_MM[1]
    spec = specs[8]
    masks = sagittal_masks(spec)
    region = masks["foramen_fat_left"] > 0.5
    plane = spec.foramen_lateral_mm[0]
    fat = {
        d: compose_sagittal(spec, masks, plane + d, "T1")[region].mean() for d in (-3.5, 0.0, 3.5)
    }
    # fat is bright on T1: the foramen shows most on its own plane, less one slice either side
    assert fat[0.0] > max(fat[-3.5], fat[3.5]) + 0.05, fat
