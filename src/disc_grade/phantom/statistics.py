"""The phantom's rates beside the real training data's (docs/phantom.md's table).

``python -m disc_grade.phantom.statistics 120 2000`` draws the default configuration's tables
(no image is rendered) at each size and prints ``cohort_stats.markdown``.
"""

from __future__ import annotations

import argparse

from disc_grade.cohort_stats import cohort_rates, markdown
from disc_grade.phantom.anatomy import PhantomConfig
from disc_grade.phantom.cohort import make_cohort


def phantom_rates(n_studies: int, seed: int = PhantomConfig.seed) -> dict[str, float]:
    """``cohort_rates`` of the default phantom configuration at ``n_studies``."""
    _, train, _, series, _ = make_cohort(PhantomConfig(n_studies=n_studies, seed=seed))
    return cohort_rates(train, series)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", type=int, nargs="+", help="numbers of studies")
    parser.add_argument("--seed", type=int, default=PhantomConfig.seed)
    args = parser.parse_args(argv)
    columns = {f"phantom, {n} studies": phantom_rates(n, args.seed) for n in args.sizes}
    print(markdown(columns))


if __name__ == "__main__":
    main()
