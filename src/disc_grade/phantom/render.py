"""Render phantom MR slices from a :class:`StudySpec`: sagittal T2/T1 and axial T2.

Geometry (millimetres, pixel centres at integer indices): an image point (column c, row r)
sits at ``x = c * spacing`` (towards posterior) and ``y = r * spacing`` (towards the feet).
The spine lives in a local frame ``(u, v)``: ``u`` is the distance behind the posterior margin
of the vertebral bodies, ``v`` runs down the spine. Tilt rotates the frame, lordosis bends it.
Tissues are soft masks (partial volume through a smooth edge), composited in paint order.
"""

from __future__ import annotations

import numpy as np

from disc_grade.phantom.anatomy import StudySpec
from disc_grade.phantom.foramina import foramen_masks, foramen_window
from disc_grade.phantom.partial_volume import soft_inside
from disc_grade.phantom.scanner import apply_scanner
from disc_grade.phantom.spine import SpineLayout, image_to_local, local_to_image, spine_layout

BODY_DEPTH_MM = 35.0
CANAL_HALF_WIDTH_MM = 11.0  # the thecal sac is seen only this far from the midline
EPIDURAL_FAT_MM = 1.6  # fat between the thecal sac and the ligamentum flavum
ROOT_RADIUS_MM = 0.6  # cauda equina nerve roots in the CSF
ROOT_DEPTHS = (0.5, 0.75)  # where the roots lie across the sac, front (0) to back (1)
ENDPLATE_BAND_MM = 4.0  # height of an endplate (Modic-like) change in the marrow
FAT_SUPPRESSION = 0.15  # what is left of fat signal on fat-suppressed (STIR) series

# tissue -> (T2, T1) relative signal
TISSUE_SIGNAL: dict[str, tuple[float, float]] = {
    "air": (0.0, 0.0),
    "soft": (0.28, 0.35),
    "fat": (0.62, 0.9),
    "marrow": (0.42, 0.6),
    "cortex": (0.07, 0.08),
    "annulus": (0.2, 0.33),
    "ligament": (0.08, 0.1),
    "csf": (1.0, 0.18),
    "post_bone": (0.38, 0.55),
    "foramen_fat": (0.55, 0.85),
}


def _rounded_box(u, v, cu, cv, hu, hv, radius):
    """Signed distance to an axis-aligned rounded box in the (u, v) frame."""
    qu = np.abs(u - cu) - (hu - radius)
    qv = np.abs(v - cv) - (hv - radius)
    outside = np.hypot(np.maximum(qu, 0), np.maximum(qv, 0))
    inside = np.minimum(np.maximum(qu, qv), 0)
    return outside + inside - radius


def tissue_signal(spec: StudySpec, sequence: str) -> dict[str, float]:
    """Relative signal of each tissue on this study's T2 (plain or fat-suppressed) or T1 series."""
    signal = {k: v[0 if sequence == "T2" else 1] for k, v in TISSUE_SIGNAL.items()}
    if sequence == "T2" and spec.fat_suppressed:  # STIR: fat and fatty marrow go dark
        for tissue in ("fat", "foramen_fat"):
            signal[tissue] *= FAT_SUPPRESSION
        signal["marrow"] *= 0.5
    return signal


def canal_walls(
    spec: StudySpec, v: np.ndarray, layout: SpineLayout
) -> tuple[np.ndarray, np.ndarray]:
    """Front and back walls (``u``, mm) of the thecal sac along the spine.

    At each disc the canal loses ``canal_narrowing * canal_ap_mm``: the disc's share
    (``bulge_share``) from the front, the rest (ligamentum flavum, facets) from the back.
    """
    front = np.full_like(v, 1.0)
    back = np.full_like(v, 1.0 + spec.canal_ap_mm)
    sigma = 0.75 * layout.disc_height
    for centre, fraction, share in zip(
        layout.disc_centres, spec.canal_narrowing, spec.bulge_share, strict=True
    ):
        lost = fraction * spec.canal_ap_mm * np.exp(-0.5 * ((v - centre) / sigma) ** 2)
        front = front + share * lost
        back = back - (1 - share) * lost
    return front, back


def canal_point(spec: StudySpec, level_index: int) -> tuple[float, float]:
    """Image position (mm) of the canal's centre at a disc: the labelled point."""
    layout = spine_layout(spec)
    v = np.array([float(layout.disc_centres[level_index])])
    front, back = canal_walls(spec, v, layout)
    x, y = local_to_image(spec, (front + back) / 2, v)
    return float(x[0]), float(y[0])


def sagittal_masks(spec: StudySpec) -> dict[str, np.ndarray]:
    """Soft masks of every tissue on the sagittal grid, independent of the slice position."""
    ps = spec.pixel_spacing
    yy, xx = np.mgrid[0 : spec.rows, 0 : spec.columns].astype(np.float32) * ps
    u, v = image_to_local(spec, xx, yy)
    layout = spine_layout(spec)
    ap = spec.canal_ap_mm
    front, back = canal_walls(spec, v, layout)

    body_dist = np.full(u.shape, np.inf, dtype=np.float32)
    lamina_dist = np.full(u.shape, np.inf, dtype=np.float32)
    spinous_dist = np.full(u.shape, np.inf, dtype=np.float32)
    for i, centre in enumerate(layout.body_centres):
        height = layout.body_height + (40.0 if i == len(layout.body_centres) - 1 else 0.0)
        body_dist = np.minimum(
            body_dist,
            _rounded_box(u, v, -BODY_DEPTH_MM / 2, centre, BODY_DEPTH_MM / 2, height / 2, 3.0),
        )
        lamina_dist = np.minimum(
            lamina_dist, _rounded_box(u, v, ap + 9.0, centre + 4.0, 6.0, 0.33 * height, 2.5)
        )
        spinous_dist = np.minimum(
            spinous_dist, _rounded_box(u, v, ap + 30.0, centre + 6.0, 14.0, 0.22 * height, 3.0)
        )
    body = soft_inside(body_dist)
    marrow = soft_inside(body_dist + 1.2)
    endplate = np.zeros_like(u)
    for centre, changed in zip(layout.disc_centres, spec.endplate_change, strict=True):
        if changed:  # a band of altered marrow above and below the disc
            reach = layout.disc_height / 2 + ENDPLATE_BAND_MM
            endplate = np.maximum(endplate, soft_inside(np.abs(v - centre) - reach))

    disc_band = np.zeros_like(u)
    nucleus = np.zeros_like(u)
    for centre in layout.disc_centres:
        band = soft_inside(np.abs(v - centre) - layout.disc_height / 2 - 0.8)
        disc_band = np.maximum(disc_band, band)
        nuc = soft_inside(
            np.hypot(
                (u + BODY_DEPTH_MM / 2) / (0.36 * BODY_DEPTH_MM),
                (v - centre) / (0.28 * layout.disc_height),
            )
            - 1.0
        )
        nucleus = np.maximum(nucleus, nuc)
    disc = disc_band * soft_inside(-(u + BODY_DEPTH_MM - 1.0)) * soft_inside(u - front + 1.0)
    disc = disc * (1 - marrow)

    canal = soft_inside(front - u) * soft_inside(u - back)
    roots = np.zeros_like(u)
    for depth in ROOT_DEPTHS:
        roots = np.maximum(
            roots, soft_inside(np.abs(u - (front + depth * (back - front))) - ROOT_RADIUS_MM)
        )
    epidural = soft_inside(back - u) * soft_inside(u - (back + EPIDURAL_FAT_MM)) * (1 - canal)
    ligament_band = soft_inside(-u) * soft_inside(u - (ap + 3.0)) * (1 - canal) * (1 - epidural)
    soft_body = soft_inside(-(u + BODY_DEPTH_MM + 110.0)) * soft_inside(u - (ap + 68.0))
    fat = soft_inside(-(u - (ap + 52.0))) * soft_body
    foramina = {side: foramen_masks(spec, u, v, layout, side) for side in ("left", "right")}
    return {
        "foramen_fat_left": foramina["left"][0],
        "foramen_root_left": foramina["left"][1],
        "foramen_fat_right": foramina["right"][0],
        "foramen_root_right": foramina["right"][1],
        "soft": soft_body,
        "fat": fat,
        "ligament": ligament_band,
        "cortex": body,
        "marrow": marrow,
        "endplate": marrow * endplate,
        "annulus": disc,
        "nucleus": disc * nucleus,
        "csf": canal,
        "roots": canal * roots,
        "epidural_fat": epidural,
        "lamina": soft_inside(lamina_dist),
        "spinous": soft_inside(spinous_dist),
    }


def compose_sagittal(
    spec: StudySpec, masks: dict[str, np.ndarray], lr_mm: float, sequence: str
) -> np.ndarray:
    """Composite the tissues seen at ``lr_mm`` from the midline into a relative-signal image."""
    sig = tissue_signal(spec, sequence)
    midline = float(soft_inside(np.asarray(abs(lr_mm) - CANAL_HALF_WIDTH_MM)))
    body_w = float(soft_inside(np.asarray(abs(lr_mm) - 24.0)))
    spinous_w = float(soft_inside(np.asarray(abs(lr_mm) - 5.0)))
    img = masks["soft"] * sig["soft"]
    img = img * (1 - masks["fat"]) + masks["fat"] * sig["fat"]
    lam = masks["lamina"]
    img = img * (1 - lam) + lam * sig["post_bone"]
    sp = masks["spinous"] * spinous_w
    img = img * (1 - sp) + sp * sig["post_bone"]
    lig = masks["ligament"]
    img = img * (1 - lig) + lig * sig["ligament"]
    # off the midline the thecal sac gives way to pedicles, and between them the foramina
    csf = masks["csf"]
    lateral = csf * (1 - midline)
    img = img * (1 - lateral) + lateral * sig["post_bone"]
    side = "left" if lr_mm > 0 else "right"  # LPS: patient left is +x
    plane_mm = spec.foramen_lateral_mm[0 if side == "left" else 1]
    window = foramen_window(abs(abs(lr_mm) - plane_mm))
    foramen = masks[f"foramen_fat_{side}"] * window * (1 - midline)
    img = img * (1 - foramen) + foramen * sig["foramen_fat"]
    root = masks[f"foramen_root_{side}"] * foramen
    img = img * (1 - root) + root * sig["ligament"]
    fat = masks["epidural_fat"] * midline
    img = img * (1 - fat) + fat * sig["fat"]
    img = img * (1 - csf * midline) + csf * midline * sig["csf"]
    roots = masks["roots"] * midline
    img = img * (1 - roots) + roots * sig["ligament"]
    cortex = masks["cortex"] * body_w
    img = img * (1 - cortex) + cortex * sig["cortex"]
    marrow = masks["marrow"] * body_w
    img = img * (1 - marrow) + marrow * sig["marrow"]
    changed = masks["endplate"] * body_w  # oedema-like: bright on T2, dark on T1
    img = img * (1 - changed) + changed * (0.75 if sequence == "T2" else 0.2)
    ann = masks["annulus"] * body_w
    img = img * (1 - ann) + ann * sig["annulus"]
    return img


def nucleus_signal(spec: StudySpec, masks: dict[str, np.ndarray], sequence: str) -> np.ndarray:
    """Nucleus brightness, per disc and unrelated to the stenosis label."""
    if sequence != "T2":
        return masks["nucleus"] * 0.4
    layout = spine_layout(spec)
    ps = spec.pixel_spacing
    yy, xx = np.mgrid[0 : spec.rows, 0 : spec.columns].astype(np.float32) * ps
    _, v = image_to_local(spec, xx, yy)
    nearest = np.argmin(np.abs(v[..., None] - layout.disc_centres[None, None, :]), axis=-1)
    return masks["nucleus"] * np.asarray(spec.disc_signal, dtype=np.float32)[nearest]


def sagittal_slice_positions(spec: StudySpec, n_slices: int) -> np.ndarray:
    """Left-right offsets (mm) of the sagittal slices, patient right first."""
    return (np.arange(n_slices) - (n_slices - 1) / 2) * spec.slice_spacing


def render_sagittal_series(
    spec: StudySpec, n_slices: int, sequence: str, rng: np.random.Generator
) -> list[np.ndarray]:
    """All slices of one sagittal series, in spatial order (patient right to left)."""
    masks = sagittal_masks(spec)
    nucleus = nucleus_signal(spec, masks, sequence)
    out = []
    for lr in sagittal_slice_positions(spec, n_slices):
        rel = compose_sagittal(spec, masks, float(lr), sequence)
        body_w = float(soft_inside(np.asarray(abs(lr) - 24.0)))
        rel = rel * (1 - masks["nucleus"] * body_w) + nucleus * body_w
        out.append(apply_scanner(spec, rel, rng, spec.pixel_spacing))
    return out
