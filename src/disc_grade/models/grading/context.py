"""Grading a study's targets together: a head over the per-target features of one study.

A per-target head sees one target at a time. The context head sees every target of the study
at once (the five levels, both sides): one layer of self-attention over the targets' features,
each target tagged with its level and side, so that a level can be read against the study's
others (a canal narrow at every level, discs dark throughout a study). Both heads are trained
the same way on the same features (the chosen grader's encoder features and logits, fixed), on
the rows they are given, stopped on other rows' weighted log loss (``models.context_grading``
holds back training studies for it, so that validation decides which one grades).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from disc_grade.conditions import CONDITION_NAMES, spec_of_condition
from disc_grade.rsna import LEVELS, SAMPLE_WEIGHTS

SIDES = ("", "left", "right")
# a target's position in its study: its level, its side, and its condition (the joint head
# grades every condition of a study together; one condition's head sees one of them)
N_POSITIONS = len(LEVELS) + len(SIDES) + len(CONDITION_NAMES)


def _side_position(condition: str) -> int:
    """0 for a condition without a side (the canal), 1 left, 2 right."""
    return SIDES.index(spec_of_condition(condition).side_of_condition(condition) or "")


def positions(index: pd.DataFrame) -> np.ndarray:
    """[n, 11] one-hot level, side (none, left, right) and condition of each target."""
    out = np.zeros((len(index), N_POSITIONS), dtype=np.float32)
    rows = np.arange(len(index))
    level = index["level"].map({lv: i for i, lv in enumerate(LEVELS)}).to_numpy()
    conditions = index["condition"].astype(str)
    side = conditions.map(_side_position).to_numpy(dtype=int)
    family = conditions.map(lambda c: CONDITION_NAMES.index(spec_of_condition(c).name))
    out[rows, level] = 1.0
    out[rows, len(LEVELS) + side] = 1.0
    out[rows, len(LEVELS) + len(SIDES) + family.to_numpy(dtype=int)] = 1.0
    return out


class ContextHead(nn.Module):
    """Per-target features [S, T, F] and positions [S, T, P] -> grade logits [S, T, 3].

    With ``attention`` False it is the per-target head: the same layers without the study.
    """

    def __init__(
        self,
        n_features: int,
        width: int = 32,
        attention: bool = True,
        heads: int = 2,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.embed = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(n_features + N_POSITIONS, width), nn.GELU()
        )
        self.attention = (
            nn.MultiheadAttention(width, heads, dropout=dropout, batch_first=True)
            if attention
            else None
        )
        self.norm = nn.LayerNorm(width)
        self.out = nn.Linear(width, 3)

    def forward(self, x: torch.Tensor, pos: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        h = self.embed(torch.cat([x, pos], dim=-1))
        if self.attention is not None:
            seen, _ = self.attention(h, h, h, key_padding_mask=pad, need_weights=False)
            h = h + seen
        return self.out(self.norm(h))


@dataclass
class Studies:
    """Targets grouped by study, padded: features [S, T, F], positions, labels, padding, and
    the row of each cell (-1 for padding)."""

    x: torch.Tensor
    pos: torch.Tensor
    labels: torch.Tensor
    pad: torch.Tensor
    rows: np.ndarray

    @classmethod
    def of(cls, features: np.ndarray, index: pd.DataFrame, rows: np.ndarray) -> Studies:
        studies = index["study_id"].to_numpy()[rows]
        order = np.unique(studies)
        width = max((int((studies == s).sum()) for s in order), default=1)
        cells = np.full((len(order), width), -1, dtype=np.int64)
        for i, study in enumerate(order):
            mine = rows[studies == study]
            cells[i, : len(mine)] = mine
        take = np.where(cells >= 0, cells, 0)
        known = index["label"] if "label" in index else pd.Series(-100, index=index.index)
        labels = known.to_numpy(dtype=np.int64)[take]  # none at inference
        return cls(
            x=torch.as_tensor(features[take], dtype=torch.float32),
            pos=torch.as_tensor(positions(index)[take]),
            labels=torch.as_tensor(np.where(cells >= 0, labels, -100)),
            pad=torch.as_tensor(cells < 0),
            rows=cells,
        )


def _weighted_nll(
    logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    return F.cross_entropy(
        logits.reshape(-1, 3), labels.reshape(-1), weight=weights, ignore_index=-100
    )


def fit_head(
    features: np.ndarray,
    index: pd.DataFrame,
    train_rows: np.ndarray,
    val_rows: np.ndarray,
    attention: bool,
    params: dict,
) -> tuple[ContextHead, dict]:
    """A head trained on ``train_rows`` (class-weighted cross-entropy, full batch, AdamW), the
    epoch kept by the validation rows' log loss under the metric's weights 1/2/4."""
    torch.manual_seed(int(params["seed"]))
    model = ContextHead(
        features.shape[1], int(params["width"]), attention, dropout=float(params["dropout"])
    )
    train, val = Studies.of(features, index, train_rows), Studies.of(features, index, val_rows)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=float(params["lr"]), weight_decay=float(params["weight_decay"])
    )
    class_weights = torch.as_tensor(params["class_weights"], dtype=torch.float32)
    metric = torch.tensor(SAMPLE_WEIGHTS)
    best, best_state, waited, ran = float("inf"), None, 0, 0
    while ran < int(params["epochs"]):
        ran += 1
        model.train()
        optimiser.zero_grad()
        _weighted_nll(model(train.x, train.pos, train.pad), train.labels, class_weights).backward()
        optimiser.step()
        model.eval()
        with torch.no_grad():
            loss = float(_weighted_nll(model(val.x, val.pos, val.pad), val.labels, metric))
        if loss < best - 1e-6:
            best, waited = loss, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            waited += 1
            if waited >= int(params["patience"]):
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    return model.eval(), {"validation_loss": best, "epochs": ran}


def head_probabilities(
    model: ContextHead, features: np.ndarray, index: pd.DataFrame, rows: np.ndarray
) -> np.ndarray:
    """[len(rows), 3] the head's probabilities for ``rows``, each graded with its study's
    other listed rows."""
    out = np.zeros((len(rows), 3))
    if len(rows) == 0:
        return out
    studies = Studies.of(features, index, rows)
    with torch.no_grad():
        probs = torch.softmax(model(studies.x, studies.pos, studies.pad), dim=-1).numpy()
    where = {row: i for i, row in enumerate(rows)}
    for s, t in zip(*np.nonzero(studies.rows >= 0), strict=True):
        out[where[studies.rows[s, t]]] = probs[s, t]
    return out
