"""The alignment's contract: the ``discs`` and ``alignment_exclusions`` columns and the reasons."""

from __future__ import annotations

# exclusion reasons, in the order they are checked
BLANK_LABEL = "blank_label"
UNKNOWN_LABEL = "unknown_label_value"
NO_SAGITTAL_T2 = "no_sagittal_t2_series"
COORDINATE_MISSING = "coordinate_missing"
NOT_ON_SAGITTAL_T2 = "coordinate_not_on_sagittal_t2"
SERIES_NOT_ON_DISK = "series_not_readable_on_disk"
INSTANCE_NOT_IN_SERIES = "instance_not_in_series"
OUTSIDE_IMAGE = "coordinate_outside_image"
STUDY_NOT_LABELLED = "study_not_in_train_csv"
UNKNOWN_LEVEL = "unknown_level"

DISC_COLUMNS = {
    "study_id": "int64",
    "level": "string",
    "level_name": "string",
    "label": "int8",
    "label_text": "string",
    "series_id": "int64",
    "instance_number": "int64",
    "slice_rank": "int64",
    "n_slices": "int64",
    "x": "float64",
    "y": "float64",
    "x_mm": "float64",
    "y_mm": "float64",
    "rows": "int64",
    "columns": "int64",
    "pixel_spacing_row": "float64",
    "pixel_spacing_col": "float64",
    "site": "string",  # the sagittal T2 series' scanner (``dicom.series.site_of``)
}
EXCLUSION_COLUMNS = {
    "source": "string",
    "study_id": "Int64",
    "level": "string",
    "label_text": "string",
    "series_id": "Int64",
    "instance_number": "Int64",
    "reason": "string",
    "detail": "string",
}
