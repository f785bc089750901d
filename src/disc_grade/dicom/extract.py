"""Extract one 2.5D ROI per disc, decoding only the slices the crops need.

Work is split by study across worker processes; each worker decodes the labelled slice and its
spatial neighbours, and returns small float16 crops. Intensities are scaled per series by the
robust range of the series' middle slice (``reference_rank``), whatever else a call decodes, so a
slice cropped in training, evaluation or inference gets the same pixels. Nothing holds a whole
series, let alone the cohort's pixels.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from disc_grade.dicom.mirror import mirror_sides
from disc_grade.dicom.pixels import read_pixels
from disc_grade.dicom.roi import crop_stack, neighbour_ranks, robust_range, roi_centre

PIXELS_UNREADABLE = "pixel_decode_failed"


@dataclass(frozen=True)
class RoiSpec:
    """How ROIs are cut: output size (px), physical extent (mm), slices per ROI, and whether a
    sided target's crop is turned so its lateral side lies the same way (``dicom.mirror``)."""

    size_px: int
    extent_mm: float
    n_channels: int
    mirror_sides: bool = False

    @classmethod
    def from_params(cls, params: dict) -> RoiSpec:
        """The spec ``conf/<env>/parameters_roi.yml`` names (its ``workers`` key is the caller's).

        Raises:
            ValueError: a key is missing or a value is out of range.
        """
        missing = [k for k in ("size_px", "extent_mm", "n_channels") if k not in params]
        if missing:
            raise ValueError(f"roi parameters lack {missing} (see conf/base/parameters_roi.yml)")
        spec = cls(
            int(params["size_px"]),
            float(params["extent_mm"]),
            int(params["n_channels"]),
            bool(params.get("mirror_sides", False)),
        )
        if (
            spec.size_px < 8
            or spec.extent_mm <= 0
            or spec.n_channels < 1
            or spec.n_channels % 2 == 0
        ):
            raise ValueError(
                f"roi parameters need size_px >= 8, extent_mm > 0 and an odd n_channels; got {spec}"
            )
        return spec


def crop_offsets(discs: pd.DataFrame, max_mm: float, seed: int) -> np.ndarray:
    """[n, 2] seeded (x, y) offsets in mm of each crop's centre from its disc's point.

    Each disc's offset is drawn uniformly in ``[-max_mm, max_mm]`` per axis from a generator
    seeded by ``(seed, study_id, level)``: the same disc gets the same offset whatever the
    order or the other discs, so crops are reproducible and the canal point is not always at
    the centre (a localisation head that outputs the centre can then be told apart).
    """
    if max_mm <= 0 or discs.empty:
        return np.zeros((len(discs), 2))
    return np.array(
        [
            np.random.default_rng([seed, int(study_id), sum(map(ord, str(level)))]).uniform(
                -max_mm, max_mm, 2
            )
            for study_id, level in zip(discs["study_id"], discs["level"], strict=True)
        ]
    )


def _decode(path: Path) -> np.ndarray:
    return read_pixels(path).astype(np.float32)


def reference_rank(n_slices: int) -> int:
    """The slice whose intensity range scales every crop of its series: the middle one."""
    return n_slices // 2


def _study_rois(args: tuple[str, list[dict], RoiSpec]) -> list[tuple[int, np.ndarray | None, dict]]:
    """Crops for one study's discs: (position in ``discs``, roi or None, flags or error)."""
    root, discs, spec = args
    out = []
    by_series: dict[int, list[dict]] = {}
    for disc in discs:
        by_series.setdefault(disc["series_id"], []).append(disc)
    for series_id, series_discs in by_series.items():
        order = list(series_discs[0]["instances_in_order"])
        reference = reference_rank(len(order))
        needed = sorted(
            {
                r
                for d in series_discs
                for r in neighbour_ranks(d["slice_rank"], len(order), spec.n_channels)
            }
            | {reference}
        )
        decoded: dict[int, np.ndarray] = {}
        errors: dict[int, str] = {}
        for rank in needed:
            path = (
                Path(root)
                / str(series_discs[0]["study_id"])
                / str(series_id)
                / f"{order[rank]}.dcm"
            )
            try:
                decoded[rank] = _decode(path)
            except Exception as exc:  # noqa: BLE001 - reported per disc below
                errors[rank] = f"{path.name}: {type(exc).__name__}: {exc}"[:300]
        scale = [decoded[reference]] if reference in decoded else list(decoded.values())
        intensity = robust_range(scale) if scale else (0.0, 1.0)
        for disc in series_discs:
            rank = disc["slice_rank"]
            if rank not in decoded:
                out.append(
                    (
                        disc["pos"],
                        None,
                        {"reason": PIXELS_UNREADABLE, "detail": errors.get(rank, "")},
                    )
                )
                continue
            ranks = neighbour_ranks(rank, len(order), spec.n_channels)
            replaced = any(r not in decoded for r in ranks)
            slices = [decoded.get(r, decoded[rank]) for r in ranks]
            roi = crop_stack(
                slices,
                disc["x"] + disc["offset_x_mm"] / disc["pixel_spacing_col"],
                disc["y"] + disc["offset_y_mm"] / disc["pixel_spacing_row"],
                (disc["pixel_spacing_row"], disc["pixel_spacing_col"]),
                spec.extent_mm,
                spec.size_px,
                intensity,
            )
            flags = {
                "neighbours_clamped": len(set(ranks)) < len(ranks),
                "neighbour_replaced": replaced,
            }
            out.append((disc["pos"], roi.astype(np.float16), flags))
    return out


def extract_rois(
    root: Path,
    discs: pd.DataFrame,
    series: pd.DataFrame,
    spec: RoiSpec,
    workers: int = 1,
    offsets_mm: np.ndarray | None = None,
) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """ROIs for every disc: (array [N, C, H, W] float16, index table, exclusions).

    Row ``i`` of the index describes ROI ``i``, with where the disc's point lies inside it
    (``point_x``, ``point_y``, ROI px); discs whose labelled slice cannot be decoded go to the
    exclusions with the file and the error.

    Args:
        offsets_mm: [n, 2] shift (x, y; mm) of each crop's centre from its point; None: centred.
        spec: with ``mirror_sides`` every crop of a sided target is turned so its lateral side
            lies the same way (``dicom.mirror``; the index says how each was turned).
    """
    offsets = np.zeros((len(discs), 2)) if offsets_mm is None else np.asarray(offsets_mm, float)
    discs = discs.assign(offset_x_mm=offsets[:, 0], offset_y_mm=offsets[:, 1])
    table = discs.merge(
        series[["study_id", "series_id", "instances_in_order"]],
        on=["study_id", "series_id"],
        how="left",
    )
    table["pos"] = np.arange(len(table))
    tasks = [
        (str(root), group.to_dict("records"), spec)
        for _, group in table.groupby("study_id", sort=True)
    ]
    rois = np.zeros((len(table), spec.n_channels, spec.size_px, spec.size_px), dtype=np.float16)
    ok = np.zeros(len(table), dtype=bool)
    flags: dict[int, dict] = {}
    progress = tqdm(total=len(tasks), desc="disc ROIs", unit="study", disable=None)
    results = map(_study_rois, tasks) if workers <= 1 else None
    pool = ProcessPoolExecutor(max_workers=workers) if workers > 1 else None
    try:
        if pool is not None:
            results = pool.map(_study_rois, tasks, chunksize=4)
        for study in results:
            for pos, roi, info in study:
                flags[pos] = info
                if roi is not None:
                    rois[pos] = roi
                    ok[pos] = True
            progress.update(1)
    finally:
        progress.close()
        if pool is not None:
            pool.shutdown()
    info = pd.DataFrame(
        [flags.get(i, {"reason": "not_processed"}) for i in range(len(table))],
        columns=["neighbours_clamped", "neighbour_replaced", "reason", "detail"],
    )
    base = table.drop(columns=["instances_in_order", "pos"])
    index = base[ok].reset_index(drop=True)
    index.insert(0, "roi", np.arange(len(index), dtype=np.int64))
    mm_per_px = spec.extent_mm / spec.size_px
    index["point_x"] = roi_centre(spec.size_px) - index["offset_x_mm"] / mm_per_px
    index["point_y"] = roi_centre(spec.size_px) - index["offset_y_mm"] / mm_per_px
    index["roi_mm_per_px"] = mm_per_px
    index["neighbours_clamped"] = info.loc[ok, "neighbours_clamped"].astype(bool).to_numpy()
    index["neighbour_replaced"] = info.loc[ok, "neighbour_replaced"].astype(bool).to_numpy()
    exclusions = base[~ok].assign(
        reason=info.loc[~ok, "reason"].to_numpy(), detail=info.loc[~ok, "detail"].to_numpy()
    )
    kept = rois if ok.all() else rois[ok]  # no copy in the usual case
    if spec.mirror_sides:
        kept, index = mirror_sides(kept, index, series)
    return kept, index, exclusions.reset_index(drop=True)
