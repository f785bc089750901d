"""Disc localiser: find the mid-canal slice and the five canal points of a sagittal T2 series."""
