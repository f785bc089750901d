"""The phantom's rates and correlations beside the real training data's (docs/phantom.md).

``python -m disc_grade.phantom.statistics 300 2000`` draws the tables of the configuration at
the real data's grade mix (no image is rendered) at each size and prints
``cohort_stats.markdown`` and ``cohort_correlations.markdown``; ``--mix measurement`` draws the
demo's mix instead.
"""

from __future__ import annotations

import argparse

from disc_grade import cohort_correlations
from disc_grade.cohort_stats import cohort_rates, markdown
from disc_grade.phantom.anatomy import PhantomConfig
from disc_grade.phantom.cohort import make_cohort


def phantom_tables(n_studies: int, seed: int = PhantomConfig.seed, mix: str = "rsna"):
    """``train.csv`` and the series table of a phantom at ``n_studies`` (no image rendered)."""
    config = PhantomConfig(n_studies=n_studies, seed=seed, grade_mix=mix)
    _, train, _, series, _ = make_cohort(config)
    return train, series


def phantom_rates(n_studies: int, seed: int = PhantomConfig.seed) -> dict[str, float]:
    """``cohort_rates`` of the phantom at the real data's grade mix at ``n_studies``."""
    return cohort_rates(*phantom_tables(n_studies, seed))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", type=int, nargs="+", help="numbers of studies")
    parser.add_argument("--seed", type=int, default=PhantomConfig.seed)
    parser.add_argument("--mix", default="rsna", help="the grade mix (phantom/config.py)")
    args = parser.parse_args(argv)
    tables = {f"phantom, {n} studies": phantom_tables(n, args.seed, args.mix) for n in args.sizes}
    print(markdown({name: cohort_rates(*t) for name, t in tables.items()}))
    print()
    print(
        cohort_correlations.markdown(
            {name: cohort_correlations.label_correlations(t[0]) for name, t in tables.items()}
        )
    )


if __name__ == "__main__":
    main()
