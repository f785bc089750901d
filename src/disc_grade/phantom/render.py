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
from disc_grade.phantom.scanner import apply_scanner
from disc_grade.phantom.spine import SpineLayout, image_to_local, local_to_image, spine_layout

EDGE_MM = 0.6  # width of the partial-volume edge of every structure
BODY_DEPTH_MM = 35.0
CANAL_HALF_WIDTH_MM = 11.0  # the thecal sac is seen only this far from the midline
DISC_SHARE_OF_NARROWING = 0.6  # the rest comes from the ligamentum flavum behind the canal

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


def _soft_inside(distance: np.ndarray) -> np.ndarray:
    """1 inside (negative distance), 0 outside, smooth over ``EDGE_MM``."""
    return 0.5 * (1.0 - np.tanh(distance / EDGE_MM))


def _rounded_box(u, v, cu, cv, hu, hv, radius):
    """Signed distance to an axis-aligned rounded box in the (u, v) frame."""
    qu = np.abs(u - cu) - (hu - radius)
    qv = np.abs(v - cv) - (hv - radius)
    outside = np.hypot(np.maximum(qu, 0), np.maximum(qv, 0))
    inside = np.minimum(np.maximum(qu, qv), 0)
    return outside + inside - radius


def _narrowing_profile(spec: StudySpec, v: np.ndarray, layout: SpineLayout) -> np.ndarray:
    """Per-pixel AP millimetres lost at the canal, peaking at each disc centre."""
    lost = np.zeros_like(v)
    sigma = 0.75 * layout.disc_height
    for centre, fraction in zip(layout.disc_centres, spec.canal_narrowing, strict=True):
        lost += fraction * spec.canal_ap_mm * np.exp(-0.5 * ((v - centre) / sigma) ** 2)
    return lost


def canal_point(spec: StudySpec, level_index: int) -> tuple[float, float]:
    """Image position (mm) of the canal's centre at a disc: the labelled point."""
    layout = spine_layout(spec)
    v = float(layout.disc_centres[level_index])
    lost = spec.canal_narrowing[level_index] * spec.canal_ap_mm
    front = 1.0 + DISC_SHARE_OF_NARROWING * lost
    back = 1.0 + spec.canal_ap_mm - (1 - DISC_SHARE_OF_NARROWING) * lost
    x, y = local_to_image(spec, np.array((front + back) / 2), np.array(v))
    return float(x), float(y)


def sagittal_masks(spec: StudySpec) -> dict[str, np.ndarray]:
    """Soft masks of every tissue on the sagittal grid, independent of the slice position."""
    ps = spec.pixel_spacing
    yy, xx = np.mgrid[0 : spec.rows, 0 : spec.columns].astype(np.float32) * ps
    u, v = image_to_local(spec, xx, yy)
    layout = spine_layout(spec)
    ap = spec.canal_ap_mm
    lost = _narrowing_profile(spec, v, layout)
    front = 1.0 + DISC_SHARE_OF_NARROWING * lost
    back = 1.0 + ap - (1 - DISC_SHARE_OF_NARROWING) * lost

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
    body = _soft_inside(body_dist)
    marrow = _soft_inside(body_dist + 1.2)

    disc_band = np.zeros_like(u)
    nucleus = np.zeros_like(u)
    for centre in layout.disc_centres:
        band = _soft_inside(np.abs(v - centre) - layout.disc_height / 2 - 0.8)
        disc_band = np.maximum(disc_band, band)
        nuc = _soft_inside(
            np.hypot(
                (u + BODY_DEPTH_MM / 2) / (0.36 * BODY_DEPTH_MM),
                (v - centre) / (0.28 * layout.disc_height),
            )
            - 1.0
        )
        nucleus = np.maximum(nucleus, nuc)
    disc = disc_band * _soft_inside(-(u + BODY_DEPTH_MM - 1.0)) * _soft_inside(u - front + 1.0)
    disc = disc * (1 - marrow)

    canal = _soft_inside(front - u) * _soft_inside(u - back)
    ligament_band = _soft_inside(-u) * _soft_inside(u - (ap + 3.0)) * (1 - canal)
    soft_body = _soft_inside(-(u + BODY_DEPTH_MM + 110.0)) * _soft_inside(u - (ap + 68.0))
    fat = _soft_inside(-(u - (ap + 52.0))) * soft_body
    return {
        "soft": soft_body,
        "fat": fat,
        "ligament": ligament_band,
        "cortex": body,
        "marrow": marrow,
        "annulus": disc,
        "nucleus": disc * nucleus,
        "csf": canal,
        "lamina": _soft_inside(lamina_dist),
        "spinous": _soft_inside(spinous_dist),
    }


def compose_sagittal(
    spec: StudySpec, masks: dict[str, np.ndarray], lr_mm: float, sequence: str
) -> np.ndarray:
    """Composite the tissues seen at ``lr_mm`` from the midline into a relative-signal image."""
    col = 0 if sequence == "T2" else 1
    sig = {k: v[col] for k, v in TISSUE_SIGNAL.items()}
    midline = float(_soft_inside(np.asarray(abs(lr_mm) - CANAL_HALF_WIDTH_MM)))
    body_w = float(_soft_inside(np.asarray(abs(lr_mm) - 24.0)))
    spinous_w = float(_soft_inside(np.asarray(abs(lr_mm) - 5.0)))
    img = masks["soft"] * sig["soft"]
    img = img * (1 - masks["fat"]) + masks["fat"] * sig["fat"]
    lam = masks["lamina"]
    img = img * (1 - lam) + lam * sig["post_bone"]
    sp = masks["spinous"] * spinous_w
    img = img * (1 - sp) + sp * sig["post_bone"]
    lig = masks["ligament"]
    img = img * (1 - lig) + lig * sig["ligament"]
    # off the midline the thecal sac gives way to pedicles and foraminal fat
    csf = masks["csf"]
    lateral = csf * (1 - midline)
    img = img * (1 - lateral) + lateral * (0.5 * sig["post_bone"] + 0.5 * sig["foramen_fat"])
    img = img * (1 - csf * midline) + csf * midline * sig["csf"]
    cortex = masks["cortex"] * body_w
    img = img * (1 - cortex) + cortex * sig["cortex"]
    marrow = masks["marrow"] * body_w
    img = img * (1 - marrow) + marrow * sig["marrow"]
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
        body_w = float(_soft_inside(np.asarray(abs(lr) - 24.0)))
        rel = rel * (1 - masks["nucleus"] * body_w) + nucleus * body_w
        out.append(apply_scanner(spec, rel, rng, spec.pixel_spacing))
    return out


def render_axial(
    spec: StudySpec, level_index: int, size: int, spacing: float, rng: np.random.Generator
) -> np.ndarray:
    """One axial T2 slice through a disc: disc, canal narrowed by the label, posterior arch."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) * spacing
    half = (size - 1) * spacing / 2
    x, y = xx - half, yy - half  # x: patient left, y: posterior; canal centre at the origin
    ap = spec.canal_ap_mm * (1 - spec.canal_narrowing[level_index])
    body = _soft_inside(np.hypot(x / 60.0, (y + 20.0) / 55.0) * 55.0 - 55.0)
    fat = _soft_inside(np.hypot(x / 66.0, (y + 20.0) / 62.0) * 62.0 - 62.0) - body
    disc = _soft_inside(np.hypot(x / 24.0, (y + 18.0) / 16.0) * 16.0 - 16.0)
    canal = _soft_inside(np.hypot(x / 10.0, y / (ap / 2 + 0.5)) * 10.0 - 10.0)
    arch = _soft_inside(np.abs(np.hypot(x, y - 4.0) - 16.0) - 2.5) * (y > 4.0)
    img = body * TISSUE_SIGNAL["soft"][0] + np.clip(fat, 0, 1) * TISSUE_SIGNAL["fat"][0]
    img = img * (1 - arch) + arch * TISSUE_SIGNAL["post_bone"][0]
    img = img * (1 - disc) + disc * TISSUE_SIGNAL["annulus"][0]
    img = img * (1 - canal) + canal * TISSUE_SIGNAL["csf"][0]
    return apply_scanner(spec, img, rng, spacing)
