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
EPIDURAL_FAT_MM = 1.6  # fat between the thecal sac and the ligamentum flavum
ROOT_RADIUS_MM = 0.6  # cauda equina nerve roots in the CSF
ROOT_DEPTHS = (0.5, 0.75)  # where the roots lie across the sac, front (0) to back (1)
ENDPLATE_BAND_MM = 4.0  # height of an endplate (Modic-like) change in the marrow
FAT_SUPPRESSION = 0.15  # what is left of fat signal on fat-suppressed (STIR) series
FORAMEN_HALF_SPAN_MM = 3.0  # slices this close to a foramen's plane show it fully...
FORAMEN_FADE_MM = 1.0  # ...and it fades over this distance beyond (best seen on its own plane)
FORAMEN_HALF_MM = (4.5, 6.5)  # half-width (front-back) and half-height of a healthy foramen
EXITING_ROOT_MM = 1.5  # radius of the exiting root, in the foramen's upper part

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


def soft_inside(distance: np.ndarray) -> np.ndarray:
    """1 inside (negative distance), 0 outside, smooth over ``EDGE_MM``."""
    return 0.5 * (1.0 - np.tanh(distance / EDGE_MM))


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


def foramen_window(distance_mm: float) -> float:
    """How much of a foramen a parasagittal slice ``distance_mm`` from its plane shows."""
    return float(0.5 * (1.0 - np.tanh((distance_mm - FORAMEN_HALF_SPAN_MM) / FORAMEN_FADE_MM)))


def foramen_masks(
    spec: StudySpec, u: np.ndarray, v: np.ndarray, layout: SpineLayout, side: str
) -> tuple[np.ndarray, np.ndarray]:
    """(fat, exiting root) of one side's foramina at every disc, on the sagittal grid.

    Each foramen is a keyhole of fat, wider at the top where the exiting root runs. Narrowing
    (``foraminal_narrowing``) takes the fat from the front (disc bulge, ``bulge_share``) and from
    the back (facet overgrowth, the rest), until the root is pinched.
    """
    hu, hv = FORAMEN_HALF_MM
    fat = np.zeros_like(u)
    root = np.zeros_like(u)
    for k, centre in enumerate(layout.disc_centres):
        lost = 2 * hu * 0.9 * spec.foraminal_narrowing[side][k]
        share = spec.bulge_share[k]
        front = 1.0 + 0.2 * spec.canal_ap_mm - hu + share * lost
        back = 1.0 + 0.2 * spec.canal_ap_mm + hu - (1 - share) * lost
        cu, half_u = (front + back) / 2, max((back - front) / 2, 0.3)
        cv = centre - 1.5
        widen = np.clip(1.0 + 0.35 * (cv - v) / hv, 0.6, 1.4)  # keyhole: wider at the top
        inside = np.hypot((u - cu) / (half_u * widen), (v - cv) / hv) - 1.0
        fat = np.maximum(fat, soft_inside(inside * min(half_u, hv)))
        root = np.maximum(
            root, soft_inside(np.hypot(u - cu, v - (cv - 0.45 * hv)) - EXITING_ROOT_MM)
        )
    return fat, root


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
