"""The five-slice grader: a stack read as a sequence of 2.5D windows, pooled by attention."""

from __future__ import annotations

import pytest
import torch

from disc_grade.models.components.networks import (
    DiscGrader,
    SliceSequenceEncoder,
    encoder_from_params,
)
from disc_grade.models.grading.predict import load_grader
from disc_grade.models.grading.saliency import gradcam

SEQUENCE = {"depth": 10, "stem_stride": 2, "window": 3}


def test_the_windows_are_the_stacks_consecutive_slices_in_order():
    encoder = encoder_from_params(SEQUENCE, in_channels=5)
    assert isinstance(encoder, SliceSequenceEncoder)
    x = torch.arange(5.0).view(1, 5, 1, 1).repeat(2, 1, 2, 2) + torch.tensor([0.0, 10.0]).view(
        2, 1, 1, 1
    )
    windows = encoder.windows(x)[:, :, 0, 0].tolist()
    assert windows == [[0, 1, 2], [1, 2, 3], [2, 3, 4], [10, 11, 12], [11, 12, 13], [12, 13, 14]]


def test_every_slice_of_the_stack_reaches_the_grade():
    torch.manual_seed(0)
    grader = DiscGrader(encoder_from_params(SEQUENCE, in_channels=5)).eval()
    x = torch.rand(2, 5, 16, 16)
    base = grader(x)[0]
    for outer in (0, 4):  # slices only the first or only the last window holds
        moved = x.clone()
        moved[:, outer] = torch.rand(2, 16, 16)
        assert not torch.allclose(grader(moved)[0], base), f"slice {outer} is not read"


def test_a_saved_five_slice_grader_loads_and_grades_the_same():
    torch.manual_seed(1)
    grader = DiscGrader(encoder_from_params(SEQUENCE, in_channels=5)).eval()
    x = torch.rand(3, 5, 16, 16)
    loaded = load_grader(grader.state_dict(), SEQUENCE)
    assert isinstance(loaded.encoder, SliceSequenceEncoder)
    assert torch.allclose(loaded(x)[0], grader(x)[0])
    maps = gradcam(loaded, x.numpy())
    assert maps.shape == (3, 16, 16) and float(maps.max()) <= 1.0


def test_a_window_of_the_whole_stack_is_the_plain_encoder_and_bad_windows_are_refused():
    assert not isinstance(encoder_from_params(SEQUENCE, in_channels=3), SliceSequenceEncoder)
    for window, slices in ((2, 5), (7, 5)):
        with pytest.raises(ValueError, match="encoder.window"):
            encoder_from_params({**SEQUENCE, "window": window}, in_channels=slices)
    with pytest.raises(ValueError, match="expected 5 slices"):
        encoder_from_params(SEQUENCE, in_channels=5)(torch.rand(1, 3, 16, 16))
