"""What a cohort in the RSNA 2024 layout looks like in numbers, beside the real training data's.

``cohort_rates`` reads any folder's tables (``train.csv``, the series table and, optionally,
the sagittal series' image sizes); ``RSNA_2024_TRAIN`` holds the same rates of the public
competition files (1,975 studies). ``compare`` puts them side by side with their ratio, which
is how the phantom is held to the real data (docs/phantom.md).
"""

from __future__ import annotations

import pandas as pd

from disc_grade.rsna import (
    AXIAL_T2,
    CONDITIONS,
    FAMILIES,
    LEVELS,
    SAGITTAL_T1,
    SAGITTAL_T2,
    SEVERITIES,
    SEVERITY_KEYS,
    SPINAL,
    condition_family,
    label_column,
)

N_REAL_STUDIES = 1975
# rates of the public train.csv and train_series_descriptions.csv (shares, not percents); a rate
# of a case seen a handful of times is planted once in a phantom (``RARE``)
RSNA_2024_TRAIN: dict[str, float] = {
    "spinal normal_mild": 0.878,
    "spinal moderate": 0.075,
    "spinal severe": 0.048,
    **{
        f"spinal {level} {severity}": share
        for level, shares in zip(
            LEVELS,
            (
                (0.955, 0.034, 0.011),
                (0.897, 0.076, 0.027),
                (0.822, 0.117, 0.062),
                (0.751, 0.120, 0.129),
                (0.965, 0.026, 0.010),
            ),
            strict=True,
        )
        for severity, share in zip(("normal_mild", "moderate", "severe"), shares, strict=True)
    },
    "foraminal normal_mild": 0.780,
    "foraminal moderate": 0.181,
    "foraminal severe": 0.040,
    "subarticular normal_mild": 0.714,
    "subarticular moderate": 0.190,
    "subarticular severe": 0.096,
    "studies with a Severe spinal level": 0.185,
    "blank cells": 572 / (25 * N_REAL_STUDIES),
    "studies with a blank cell": 185 / N_REAL_STUDIES,
    "blank subarticular cells": 517 / (10 * N_REAL_STUDIES),
    "blank foraminal cells": 50 / (10 * N_REAL_STUDIES),
    "blank spinal cells": 5 / (5 * N_REAL_STUDIES),
    "studies with several axial T2 series": 335 / N_REAL_STUDIES,
    "studies with two sagittal T1 series": 7 / N_REAL_STUDIES,
    "studies without sagittal T1": 2 / N_REAL_STUDIES,
    "studies without sagittal T2": 1 / N_REAL_STUDIES,
    "study ids above 2^31": 0.51,
}
RARE = {  # seen at most a handful of times in 1,975 studies
    "blank spinal cells",
    "studies with two sagittal T1 series",
    "studies without sagittal T1",
    "studies without sagittal T2",
}


def _shares(values: pd.Series) -> list[float]:
    counts = values.value_counts()
    total = counts.sum()
    return [float(counts.get(s, 0) / total) if total else float("nan") for s in SEVERITIES]


def label_rates(train: pd.DataFrame) -> dict[str, float]:
    """Grade shares per family and per spinal level; blank cells; studies with a Severe canal."""
    out: dict[str, float] = {}
    keys = SEVERITY_KEYS
    columns = {c: [label_column(c, lv) for lv in LEVELS] for c in CONDITIONS}
    for family in FAMILIES:
        cells = pd.concat(
            [train[col] for c in CONDITIONS if condition_family(c) == family for col in columns[c]]
        )
        out |= dict(zip((f"{family} {k}" for k in keys), _shares(cells.dropna()), strict=True))
        out[f"blank {family} cells"] = float(cells.isna().mean())
    for level, column in zip(LEVELS, columns[SPINAL], strict=True):
        shares = _shares(train[column].dropna())
        out |= dict(zip((f"spinal {level} {k}" for k in keys), shares, strict=True))
    every = train[[c for cols in columns.values() for c in cols]]
    out["studies with a Severe spinal level"] = float(
        (train[columns[SPINAL]] == SEVERITIES[2]).any(axis=1).mean()
    )
    out["blank cells"] = float(every.isna().to_numpy().mean())
    out["studies with a blank cell"] = float(every.isna().any(axis=1).mean())
    out["study ids above 2^31"] = float((train["study_id"].astype("int64") > 2**31).mean())
    return out


def grade_mix(train: pd.DataFrame) -> tuple[dict[str, list[float]], str]:
    """Per family the shares of Normal/Mild, Moderate and Severe of ``train.csv``, and a sentence
    that puts them beside the RSNA 2024 training labels' (and says when they are not those)."""
    rates = label_rates(train)
    shares = {f: [rates[f"{f} {k}"] for k in SEVERITY_KEYS] for f in FAMILIES}
    real = {f: [RSNA_2024_TRAIN[f"{f} {k}"] for k in SEVERITY_KEYS] for f in FAMILIES}

    def pct(values: list[float]) -> str:
        return " : ".join(f"{100 * v:.0f}" for v in values)

    ours = ", ".join(f"{f} {pct(v)}" for f, v in shares.items())
    theirs = ", ".join(f"{f} {pct(v)}" for f, v in real.items())
    off = max(abs(shares[f][0] - real[f][0]) for f in FAMILIES)
    text = f"grade shares in % (Normal/Mild : Moderate : Severe) {ours}"
    if off > 0.1:
        text += (
            f"; not the real data's mix ({theirs}): more Moderate and Severe targets, so that a "
            "small test split can tell graders apart"
        )
    return shares, text


def series_rates(train: pd.DataFrame, descriptions: pd.DataFrame) -> dict[str, float]:
    """Shares of studies by their series layout (``train_series_descriptions.csv``)."""
    studies = pd.Index(train["study_id"].astype("int64").unique())
    counts = (
        descriptions.groupby(["study_id", "series_description"])
        .size()
        .unstack(fill_value=0)
        .reindex(index=studies, columns=[SAGITTAL_T2, SAGITTAL_T1, AXIAL_T2], fill_value=0)
    )
    return {
        "studies with several axial T2 series": float((counts[AXIAL_T2] > 1).mean()),
        "studies with two sagittal T1 series": float((counts[SAGITTAL_T1] > 1).mean()),
        "studies without sagittal T1": float((counts[SAGITTAL_T1] == 0).mean()),
        "studies without sagittal T2": float((counts[SAGITTAL_T2] == 0).mean()),
    }


def cohort_rates(train: pd.DataFrame, descriptions: pd.DataFrame) -> dict[str, float]:
    """Every rate of ``RSNA_2024_TRAIN``, measured on a cohort's own tables."""
    rates = label_rates(train) | series_rates(train, descriptions)
    return {key: rates[key] for key in RSNA_2024_TRAIN}


def compare(rates: dict[str, float]) -> pd.DataFrame:
    """Real against cohort rate per key, with their ratio and whether it is within a factor of 2.

    A rare case (``RARE``) planted once passes when the cohort has it at all.
    """
    rows = []
    for key, real in RSNA_2024_TRAIN.items():
        ours = rates[key]
        ratio = ours / real if real else float("nan")
        within = 0.5 <= ratio <= 2.0 or (key in RARE and ours > 0)
        rows.append({"rate": key, "real": real, "cohort": ours, "ratio": ratio, "ok": within})
    return pd.DataFrame(rows)


def markdown(columns: dict[str, dict[str, float]]) -> str:
    """A Markdown table: the real rates, then one column per cohort (percent), ratios flagged."""
    from disc_grade.cohort_correlations import comparison_markdown

    tables = {name: compare(rates).set_index("rate") for name, rates in columns.items()}
    return comparison_markdown("rate", RSNA_2024_TRAIN, tables, scale=100)


def main(argv: list[str] | None = None) -> None:
    """``python -m disc_grade.cohort_stats FOLDER ...``: each folder's rates, then how its grades
    hang together (``cohort_correlations``), beside the real ones."""
    import argparse
    from pathlib import Path

    from disc_grade import cohort_correlations
    from disc_grade.rsna import SERIES_DESCRIPTIONS_CSV, TRAIN_CSV

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("folders", nargs="+", help="RSNA-layout folders (train.csv, ...)")
    args = parser.parse_args(argv)
    columns, correlations = {}, {}
    for folder in args.folders:
        train = pd.read_csv(Path(folder) / TRAIN_CSV)
        series = pd.read_csv(Path(folder) / SERIES_DESCRIPTIONS_CSV)
        name = f"{folder} ({len(train)} studies)"
        columns[name] = cohort_rates(train, series)
        correlations[name] = cohort_correlations.label_correlations(train)
    print(markdown(columns))
    print()
    print(cohort_correlations.markdown(correlations))


if __name__ == "__main__":
    main()
