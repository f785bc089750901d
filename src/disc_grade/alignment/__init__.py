"""Disc-label alignment and the study-level split; nothing here knows Kedro."""
