"""Training throughput: batched on-device augmentation vs a per-sample MONAI-transform DataLoader.

Both train the same ResNet-18 grader (stride-2 stem) with the same loss, batch size and number
of steps, in the same run; only how augmented batches are made differs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from disc_grade.models.components.augment import AugmentConfig, appearance, random_affine, warp  # noqa: E402
from disc_grade.models.components.losses import WeightedFocalLoss  # noqa: E402
from disc_grade.models.components.networks import DiscGrader, build_encoder  # noqa: E402


def finetuning_augment() -> dict:
    """The first condition's fine-tuning augmentation ranges, as Kedro reads them from ``conf/``
    (the benchmark trains as the project does)."""
    from benchmarks._inference import project_context
    from disc_grade.conditions import CONDITION_NAMES

    return project_context().params[CONDITION_NAMES[0]]["finetuning"]["augment"]


def monai_baseline_loader(rois: np.ndarray, labels: np.ndarray, batch: int):
    from monai.data import Dataset
    from monai.transforms import (
        Compose,
        RandAdjustContrast,
        RandAffine,
        RandBiasField,
        RandGaussianNoise,
        RandGaussianSmooth,
        RandScaleIntensity,
    )

    transform = Compose(
        [
            RandAffine(
                prob=1.0,
                rotate_range=np.deg2rad(10),
                scale_range=0.1,
                translate_range=4,
                padding_mode="zeros",
            ),
            RandAdjustContrast(prob=1.0, gamma=(0.7, 1.4)),
            RandBiasField(prob=1.0, coeff_range=(0.0, 0.3)),
            RandScaleIntensity(prob=1.0, factors=0.25),
            RandGaussianSmooth(prob=1.0, sigma_x=(0.0, 1.0), sigma_y=(0.0, 1.0)),
            RandGaussianNoise(prob=1.0, std=0.05),
        ]
    )

    class Rois(Dataset):
        def __getitem__(self, i):
            return transform(torch.from_numpy(rois[i].astype(np.float32))), int(labels[i])

        def __len__(self):
            return len(rois)

    return torch.utils.data.DataLoader(
        Rois(list(range(len(rois)))), batch_size=batch, shuffle=True, num_workers=0
    )


def run(steps: int, batch: int, size: int, make_batches) -> float:
    torch.manual_seed(0)
    model = DiscGrader(build_encoder(18, stem_stride=2))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = WeightedFocalLoss([1, 2, 4])
    model.train()
    seen, start = 0, None
    for i, (x, y) in enumerate(make_batches()):
        if i == 1:  # the first step warms up allocators
            start, seen = time.perf_counter(), 0
        if i > steps:
            break
        logits, point = model(x)
        loss = loss_fn(logits, y) + F.smooth_l1_loss(point, torch.zeros_like(point))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seen += len(y)
    return seen / (time.perf_counter() - start)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=48)
    parser.add_argument("--smoke", action="store_true", help="smallest size, for make test")
    args = parser.parse_args()
    if args.smoke:
        args.steps, args.batch = 1, 8
    rng = np.random.default_rng(0)
    n = args.batch * (args.steps + 2)
    rois = rng.random((n, 3, args.size, args.size)).astype(np.float16)
    labels = rng.integers(0, 3, n)
    cfg = AugmentConfig.from_params(finetuning_augment())

    def ours():
        g = torch.Generator().manual_seed(0)
        order = torch.randperm(n, generator=g)
        for s in range(0, n, args.batch):
            idx = order[s : s + args.batch].numpy()
            x = torch.from_numpy(rois[idx].astype(np.float32))
            x = appearance(warp(x, random_affine(len(idx), cfg, g, "cpu")), cfg, g)
            yield x, torch.as_tensor(labels[idx])

    def baseline():
        yield from monai_baseline_loader(rois, labels, args.batch)

    base = run(args.steps, args.batch, args.size, baseline)
    fast = run(args.steps, args.batch, args.size, ours)
    print(
        f"training ResNet-18 at {args.size} px, batch {args.batch}, {args.steps} timed steps, {torch.get_num_threads()} threads:"
    )
    print(f"  per-sample MONAI transforms + DataLoader (baseline): {base:.1f} samples/s")
    print(f"  batched tensor augmentation:                         {fast:.1f} samples/s")
    print(f"  ratio x{fast / base:.2f}")
