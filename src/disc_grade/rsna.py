"""The RSNA 2024 Lumbar Spine Degenerative Classification layout: its vocabulary and file names.

One place for what the competition's files call things, so that the real-data path, the
phantom that imitates it and the submission writer agree:

- ``train.csv``: ``study_id`` plus one column ``<condition>_<level>`` per target (25);
- ``train_label_coordinates.csv``: the same targets spelled ``"Spinal Canal Stenosis"`` and
  ``"L1/L2"``;
- ``train_series_descriptions.csv``: ``Sagittal T2/STIR``, ``Sagittal T1``, ``Axial T2``;
- ``sample_submission.csv``: ``row_id`` = ``<study_id>_<condition>_<level>`` and one probability
  column per severity.
"""

from __future__ import annotations

LEVELS: tuple[str, ...] = ("l1_l2", "l2_l3", "l3_l4", "l4_l5", "l5_s1")
LEVEL_NAMES: dict[str, str] = {
    "l1_l2": "L1/L2",
    "l2_l3": "L2/L3",
    "l3_l4": "L3/L4",
    "l4_l5": "L4/L5",
    "l5_s1": "L5/S1",
}
LEVEL_FROM_NAME: dict[str, str] = {name: level for level, name in LEVEL_NAMES.items()}

SPINAL = "spinal_canal_stenosis"
CONDITIONS: tuple[str, ...] = (
    SPINAL,
    "left_neural_foraminal_narrowing",
    "right_neural_foraminal_narrowing",
    "left_subarticular_stenosis",
    "right_subarticular_stenosis",
)
CONDITION_NAMES: dict[str, str] = {
    SPINAL: "Spinal Canal Stenosis",
    "left_neural_foraminal_narrowing": "Left Neural Foraminal Narrowing",
    "right_neural_foraminal_narrowing": "Right Neural Foraminal Narrowing",
    "left_subarticular_stenosis": "Left Subarticular Stenosis",
    "right_subarticular_stenosis": "Right Subarticular Stenosis",
}

# the competition metric's sample weight of a target, by its true grade (0, 1, 2)
SAMPLE_WEIGHTS: tuple[float, float, float] = (1.0, 2.0, 4.0)
# label values of train.csv, in class order 0, 1, 2
SEVERITIES: tuple[str, ...] = ("Normal/Mild", "Moderate", "Severe")
# the same classes as sample_submission.csv and the prediction tables name them
SEVERITY_KEYS: tuple[str, ...] = ("normal_mild", "moderate", "severe")
PROB_COLUMNS: list[str] = [f"p_{key}" for key in SEVERITY_KEYS]
# a calibrated prediction table keeps the grader's own probabilities and grade under these
RAW_PROB_COLUMNS: list[str] = [f"raw_{c}" for c in PROB_COLUMNS]

SAGITTAL_T2 = "Sagittal T2/STIR"
SAGITTAL_T1 = "Sagittal T1"
AXIAL_T2 = "Axial T2"
SERIES_DESCRIPTIONS: tuple[str, ...] = (SAGITTAL_T2, SAGITTAL_T1, AXIAL_T2)

TRAIN_CSV = "train.csv"
COORDINATES_CSV = "train_label_coordinates.csv"
SERIES_DESCRIPTIONS_CSV = "train_series_descriptions.csv"
IMAGES_DIR = "train_images"
SUBMISSION_COLUMNS: list[str] = ["row_id", *SEVERITY_KEYS]


def label_column(condition: str, level: str) -> str:
    """The ``train.csv`` column of one target, e.g. ``spinal_canal_stenosis_l4_l5``."""
    return f"{condition}_{level}"


def submission_row_id(study_id: int | str, condition: str, level: str) -> str:
    """The ``sample_submission.csv`` row id of one target, e.g. ``123_spinal_canal_stenosis_l4_l5``."""
    return f"{study_id}_{label_column(condition, level)}"


FAMILIES: tuple[str, ...] = ("spinal", "foraminal", "subarticular")


def submission_targets(study_ids) -> list[tuple[int, str, str]]:
    """``(study_id, condition, level)`` of every ``sample_submission.csv`` row, in its order.

    Per study, in the order given: the conditions as ``train.csv`` orders its columns (spinal,
    left and right foraminal, left and right subarticular), each over L1/L2 .. L5/S1.
    """
    return [(int(s), c, lv) for s in study_ids for c in CONDITIONS for lv in LEVELS]


def condition_family(condition: str) -> str:
    """The competition's condition family: ``spinal``, ``foraminal`` or ``subarticular``.

    Raises:
        ValueError: not one of ``CONDITIONS``.
    """
    if condition not in CONDITIONS:
        raise ValueError(f"unknown condition '{condition}'; expected one of {list(CONDITIONS)}")
    return next(f for f in FAMILIES if f in condition)


def parse_row_id(row_id: str) -> tuple[int, str, str]:
    """``(study_id, condition, level)`` of a ``sample_submission.csv`` row id.

    Raises:
        ValueError: the id is not ``<study_id>_<condition>_<level>``.
    """
    study, _, target = str(row_id).partition("_")
    for condition in CONDITIONS:
        for level in LEVELS:
            if target == label_column(condition, level) and study.isdigit():
                return int(study), condition, level
    raise ValueError(f"row_id '{row_id}' is not <study_id>_<condition>_<level>")
