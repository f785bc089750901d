"""The report's verdict on a head over a study's targets (the joint head): whether it was kept
and on what (out of fold or the validation split), and what the leave-site-out folds said."""

from __future__ import annotations

from disc_grade.evaluation.render import fmt


def kept_verdict(head: dict, against: str = "the grader's") -> str:
    """``yes``/``no`` for a head and the paired figures it was kept on:
    out of fold where its choice was made there (with the validation split's verdict beside),
    else on the validation split; then what the leave-site-out folds said, where there are
    some."""
    return _in_site_verdict(head, against) + _site_verdict(head)


def _site_verdict(head: dict) -> str:
    """What the leave-site-out folds said: the head against each fold's grader (calibrated as
    the grader ships) on the site the fold left out, whatever the condition ships in-site."""
    sites = head.get("left_out_sites") or {}
    if not sites:
        return ""
    gain = sites.get("gain") or 0.0
    return (
        f"; on the sites its folds left out ({', '.join(map(str, sites.get('sites', [])))}, "
        f"{sites.get('n_studies')} studies) log loss {fmt(abs(gain))} "
        f"{'below' if gain >= 0 else 'above'} the grader's"
        + (", both with BatchNorm adapted to the site" if sites.get("adapted") else "")
        + (", so not kept" if head.get("site_veto") else "")
    )


def _in_site_verdict(head: dict, against: str) -> str:
    text = "yes" if head.get("kept") else "no"
    folded = head.get("out_of_fold") or {}
    if head.get("decided_on") == "out_of_fold" and folded:
        gain = folded.get("gain") or 0.0
        text += (
            f" (out-of-fold log loss {fmt(abs(gain))} {'below' if gain > 0 else 'above'} "
            f"{against} over {folded.get('n_studies')} studies, {folded.get('folds')} folds, "
            f"below in {fmt(folded.get('share_won'), 'pct')} of resamples; the validation "
            f"split alone said {'yes' if head.get('split_verdict') else 'no'})"
        )
        return text + (" (set)" if head.get("overridden") else "")
    paired = head.get("paired") or {}
    if paired.get("share_won") is not None:
        gain = paired.get("gain") or 0.0
        text += (
            f" (validation log loss {fmt(abs(gain))} {'below' if gain > 0 else 'above'} "
            f"{against}, below in {fmt(paired.get('share_won'), 'pct')} of resamples)"
        )
    return text + (" (set)" if head.get("overridden") else "")
