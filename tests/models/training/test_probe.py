"""The probe tells an encoder that knows the grade from one that does not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from disc_grade.models.components.networks import build_encoder
from disc_grade.models.training.probe import CHANCE, probe_encoder, probe_scores

SIZE = 24


def confounded_rois(n: int = 150, seed: int = 0) -> tuple[np.ndarray, pd.DataFrame]:
    """A canal-like band whose width is the grade, under random contrast, position and noise."""
    rng = np.random.default_rng(seed)
    labels = np.tile([0, 1, 2], n // 3)
    rois = np.zeros((n, 3, SIZE, SIZE), dtype=np.float32)
    columns = np.arange(SIZE)
    for i, label in enumerate(labels):
        half = (5.0, 3.0, 1.5)[label]
        centre = (SIZE - 1) / 2 + rng.uniform(-4, 4)
        band = (np.abs(columns - centre) < half).astype(np.float32)
        rois[i] = rng.uniform(0.0, 0.5) + rng.uniform(0.2, 2.0) * band[None, None, :]
        rois[i] += rng.normal(0, 0.1, size=(3, SIZE, SIZE))
    index = pd.DataFrame(
        {
            "study_id": np.arange(n) // 3,  # three discs a study
            "label": labels,
            "split": np.where(np.arange(n) < 2 * n // 3, "train", "validation"),
        }
    )
    return rois.astype(np.float16), index


class BandWidth(torch.nn.Module):
    """A deliberately informative encoder: how many columns stand above half the profile's range."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, C, H, W] -> [B, 1]
        profile = x.mean(dim=(1, 2))
        low, high = profile.min(1, keepdim=True).values, profile.max(1, keepdim=True).values
        return ((profile - low) > 0.5 * (high - low)).float().sum(1, keepdim=True)


class Brightness(torch.nn.Module):
    """An uninformative encoder: overall brightness and contrast, which the grade does not set."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([x.mean(dim=(1, 2, 3)), x.amax(dim=(1, 2, 3))], dim=1)


def test_an_informative_encoder_beats_an_uninformative_one():
    rois, index = confounded_rois()
    device = torch.device("cpu")
    informative = probe_encoder(BandWidth(), rois, index, device)
    uninformative = probe_encoder(Brightness(), rois, index, device)
    torch.manual_seed(0)
    random_init = probe_encoder(build_encoder(depth=10, in_channels=3), rois, index, device)
    assert informative["probe_balanced_accuracy"] > 0.9
    assert informative["probe_balanced_accuracy"] > uninformative["probe_balanced_accuracy"] + 0.3
    assert informative["knn_balanced_accuracy"] > uninformative["knn_balanced_accuracy"] + 0.3
    assert informative["probe_balanced_accuracy"] >= random_init["probe_balanced_accuracy"]


def test_the_probe_never_reads_test_discs():
    rois, index = confounded_rois()
    index.loc[index.index[:30], "split"] = "test"
    spy = BandWidth()
    seen = []
    spy.register_forward_hook(lambda module, args, out: seen.append(len(args[0])))
    probe_encoder(spy, rois, index, torch.device("cpu"))
    assert sum(seen) == len(index) - 30


def test_features_without_grade_information_probe_at_chance():
    rng = np.random.default_rng(0)
    labels = np.tile([0, 1, 2], 200)
    noise = rng.normal(size=(600, 16))
    scores = probe_scores(noise, labels, np.arange(600) // 5)
    assert abs(scores["probe_balanced_accuracy"] - CHANCE) < 0.1
    assert abs(scores["knn_balanced_accuracy"] - CHANCE) < 0.1


def test_the_compromise_probe_reads_the_band_width_not_the_brightness():
    rois, index = confounded_rois()
    half_width = np.array([(5.0, 3.0, 1.5)[label] for label in index["label"]])
    compromise = 1 - half_width / 5.0  # the canal lost, as the phantom's truth says it
    compromise[:6] = np.nan  # discs the truth does not know are left out
    device = torch.device("cpu")
    informative = probe_encoder(BandWidth(), rois, index, device, compromise)
    uninformative = probe_encoder(Brightness(), rois, index, device, compromise)
    assert informative["compromise_r2"] > 0.8
    assert informative["compromise_r2"] > uninformative["compromise_r2"] + 0.3
    assert "compromise_r2" not in probe_encoder(BandWidth(), rois, index, device)


def test_kNN_votes_are_weighed_by_grade_frequency():
    # a rare grade a plain 5-neighbour vote never names: its features sit beside it, unmixed
    rng = np.random.default_rng(0)
    labels = np.r_[np.zeros(380, int), np.ones(20, int)]
    x = rng.normal(size=(400, 2)) + labels[:, None] * 1.5
    scores = probe_scores(x, labels, np.arange(400) // 4)
    assert scores["knn_balanced_accuracy"] > 0.7


def test_probe_weights_loads_the_weights_or_builds_a_seeded_random_encoder(monkeypatch):
    import disc_grade.models.training.probe as probe

    seen = []
    monkeypatch.setattr(probe, "probe_encoder", lambda encoder, *a, **k: seen.append(encoder))
    settings = {"depth": 10, "stem_stride": 2}
    rois, index = confounded_rois(n=30)
    torch.manual_seed(123)
    trained = build_encoder(depth=10, in_channels=3).state_dict()
    device = torch.device("cpu")
    probe.probe_weights(settings, trained, rois, index, device, seed=7)
    probe.probe_weights(settings, None, rois, index, device, seed=7)
    probe.probe_weights(settings, None, rois, index, device, seed=7)
    loaded, random_a, random_b = (e.state_dict() for e in seen)
    assert all(torch.equal(loaded[k], v) for k, v in trained.items())
    assert all(torch.equal(random_a[k], random_b[k]) for k in random_a)  # the seed decides
    assert not torch.equal(random_a["conv1.weight"], trained["conv1.weight"])
