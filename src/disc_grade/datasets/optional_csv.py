"""Sidecars that may be absent: loading a missing file gives an empty value, not an error.

For files that only some data has (the phantom's truth and its split suggestion): the
pipelines use them where they exist and say so where they do not. ``lineage`` leaves such
inputs out of DVC's deps (a missing dep stops ``dvc repro``); they change only with the data
they accompany.
"""

from __future__ import annotations

import pandas as pd
from kedro_datasets.json import JSONDataset
from kedro_datasets.pandas import CSVDataset


class OptionalCSVDataset(CSVDataset):
    """``pandas.CSVDataset`` whose ``load`` of a missing file is an empty ``DataFrame``."""

    def load(self) -> pd.DataFrame:
        if not self._exists():
            return pd.DataFrame()
        return super().load()


class OptionalJSONDataset(JSONDataset):
    """``json.JSONDataset`` whose ``load`` of a missing file is an empty ``dict``."""

    def load(self) -> dict:
        if not self._exists():
            return {}
        return super().load()
