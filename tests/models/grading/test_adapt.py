"""BatchNorm adaptation recovers most of what a grader loses on a site whose intensities differ."""

from __future__ import annotations

import numpy as np
import torch

from disc_grade.models.components.networks import DiscGrader, build_encoder
from disc_grade.models.grading.adapt import adapt_batchnorm, batchnorm_layers
from disc_grade.models.grading.predict import predict

CPU = torch.device("cpu")


def _crops(n: int, seed: int, gain: float = 1.0, offset: float = 0.0):
    """Three channels of 16 px; the grade is how bright a central square is over noise. A second
    site's scanner scales and shifts every intensity (``gain``, ``offset``), whatever the grade."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    x = rng.normal(0.0, 0.15, (n, 3, 16, 16)).astype(np.float32)
    x[:, :, 5:11, 5:11] += (0.3 + 0.35 * labels)[:, None, None, None]
    return (x * gain + offset).astype(np.float32), labels


def _trained() -> DiscGrader:
    torch.manual_seed(0)
    model = DiscGrader(build_encoder(depth=10, in_channels=3, stem_stride=1))
    x, y = _crops(384, seed=0)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(5):
        for batch in torch.randperm(len(x), generator=generator).split(32):
            logits, _ = model(torch.from_numpy(x[batch.numpy()]))
            loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y[batch.numpy()]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return model.eval()


def _accuracy(model, x, y) -> float:
    probs, _ = predict(model, x, np.arange(len(x)), CPU)
    return float((probs.argmax(1) == y).mean())


def test_adapting_batchnorm_to_a_shifted_site_recovers_most_of_the_lost_accuracy():
    model = _trained()
    in_site = _crops(240, seed=1)
    shifted = _crops(240, seed=2, gain=1.8, offset=0.6)
    before = {k: v.clone() for k, v in model.state_dict().items()}

    home = _accuracy(model, *in_site)
    away = _accuracy(model, *shifted)
    adapted = _accuracy(adapt_batchnorm(model, shifted[0], CPU), *shifted)
    assert home > 0.9, home
    assert home - away > 0.3, (home, away)  # the new site is where grading breaks
    assert adapted - away >= 0.7 * (home - away), (home, away, adapted)
    # adapting to its own site costs the home site little
    assert _accuracy(adapt_batchnorm(model, in_site[0], CPU), *in_site) > home - 0.05
    # the model itself is untouched: adaptation works on a copy
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_too_few_crops_keep_the_training_statistics():
    model = _trained()
    x, _ = _crops(8, seed=3, gain=1.8, offset=0.6)
    adapted = adapt_batchnorm(model, x, CPU)
    for mine, theirs in zip(batchnorm_layers(model), batchnorm_layers(adapted), strict=True):
        assert torch.equal(mine.running_mean, theirs.running_mean)
        assert torch.equal(mine.running_var, theirs.running_var)
