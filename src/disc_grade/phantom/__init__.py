"""The phantom: a synthetic cohort in the RSNA 2024 layout whose canal narrowing follows the label."""
