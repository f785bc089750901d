"""Scanner sites: what differs between hospitals and what contrastive pretraining should ignore.

Each study belongs to one site. A site fixes the ranges its studies draw from: contrast and
gamma, fat suppression (STIR: fat dark, against bright fat on plain T2), noise, in-plane
resolution and slice spacing, blur, bias field, intensity scaling and a ghost artefact. The site
is written into every file as the scanner model (``ManufacturerModelName``), as a real scanner
would, and into the truth sidecar ``phantom_truth.csv``; no pipeline trains on the sidecar.
"""

from __future__ import annotations

from dataclasses import dataclass

MANUFACTURER = "disc-grade phantom"


@dataclass(frozen=True)
class SiteProfile:
    """The ranges one site's studies draw their appearance from."""

    name: str
    fat_suppressed: bool  # STIR-like: fat and marrow dark
    gamma: tuple[float, float]
    noise: tuple[float, float]  # Rician noise sigma, relative to CSF signal
    bias: float  # amplitude of the low-order bias-field coefficients
    blur_mm: tuple[float, float]
    resolution: float  # image size relative to the nominal one (lower: coarser pixels)
    slice_spacing_mm: tuple[float, float]
    intensity: tuple[float, float]  # stored value of unit signal
    ghost: float  # amplitude of a phase-encoding ghost (0: none)

    @property
    def model(self) -> str:
        """The scanner model every file of the site carries."""
        return f"phantom site {self.name}"


SITES: dict[str, SiteProfile] = {
    p.name: p
    for p in (
        SiteProfile(
            "A",
            False,
            (0.9, 1.1),
            (0.015, 0.03),
            0.12,
            (0.0, 0.6),
            1.0,
            (3.0, 3.5),
            (900, 1400),
            0.0,
        ),
        SiteProfile(
            "B",
            True,
            (0.75, 0.95),
            (0.03, 0.05),
            0.2,
            (0.3, 0.9),
            1.0,
            (3.0, 4.0),
            (1500, 2500),
            0.0,
        ),
        SiteProfile(
            "C", False, (0.9, 1.2), (0.02, 0.04), 0.15, (1.0, 1.6), 0.7, (4.0, 4.8), (600, 900), 0.0
        ),
        SiteProfile(
            "D",
            False,
            (1.25, 1.5),
            (0.01, 0.025),
            0.35,
            (0.0, 0.5),
            1.15,
            (3.0, 3.5),
            (2500, 3500),
            0.0,
        ),
        SiteProfile(
            "E",
            True,
            (0.85, 1.15),
            (0.05, 0.08),
            0.25,
            (0.5, 1.2),
            0.85,
            (3.5, 4.5),
            (700, 1200),
            0.12,
        ),
    )
}


def site_named(name: str) -> SiteProfile:
    """The profile of site ``name``.

    Raises:
        ValueError: no such site.
    """
    if name not in SITES:
        raise ValueError(f"unknown phantom site '{name}'; known: {sorted(SITES)}")
    return SITES[name]
