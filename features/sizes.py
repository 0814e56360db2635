"""Size systems: bra band/cup (with sister sizes) and alpha apparel sizes, as ordinal steps.

Bras are two-dimensional. A band step is 2 (inches, US/UK); a cup step is one letter in
EU lettering (AA, A, B, ... H). Cup *volume* is the same along a sister-size diagonal:
going one band up and one cup down keeps the volume (34C ~ 32D ~ 36B), so

    band_step = (band - 28) / 2
    cup_volume = band_step + cup_step

Every function here is pure and vectorizes over numpy arrays where it takes numbers.
"""

from __future__ import annotations

import re

import numpy as np

from features.contract.schema import ALPHA_SIZES, BRA_BANDS, BRA_CUPS

_BRA_LABEL = re.compile(r"^\s*(\d{2})\s*([A-Za-z]{1,2})\s*$")
CUP_STEP = {cup: i for i, cup in enumerate(BRA_CUPS)}
ALPHA_STEP = {size: i for i, size in enumerate(ALPHA_SIZES)}


def band_step(band):
    """Ordinal position of a band: 28 -> 0, 30 -> 1, ..., 46 -> 9."""
    return (np.asarray(band) - BRA_BANDS[0]) // 2


def cup_step(cup: str) -> int:
    """Ordinal position of a cup letter: AA -> 0, A -> 1, ..., H -> 8."""
    try:
        return CUP_STEP[cup.upper()]
    except KeyError:
        raise ValueError(f"unknown cup {cup!r}; valid: {', '.join(BRA_CUPS)}") from None


def cup_volume(band, cup_steps):
    """Cup volume in cup steps; equal for sister sizes."""
    return band_step(band) + np.asarray(cup_steps)


def parse_bra_size(label: str) -> tuple[int, str]:
    """``"34C"`` -> ``(34, "C")``; raises ``ValueError`` naming the valid bands and cups."""
    m = _BRA_LABEL.match(label)
    if not m:
        raise ValueError(f"not a bra size: {label!r} (expected band then cup, e.g. 34C)")
    band, cup = int(m.group(1)), m.group(2).upper()
    if band not in BRA_BANDS:
        raise ValueError(f"band {band} in {label!r} is not one of {', '.join(map(str, BRA_BANDS))}")
    cup_step(cup)
    return band, cup


def bra_label(band: int, cup: str) -> str:
    return f"{band}{cup}"


def sister_sizes(band: int, cup: str) -> list[tuple[int, str]]:
    """The same cup volume on the neighbouring bands, e.g. 34C -> [(32, 'D'), (36, 'B')]."""
    out = []
    for d in (-1, 1):
        b, c = band + 2 * d, cup_step(cup) - d
        if b in BRA_BANDS and 0 <= c < len(BRA_CUPS):
            out.append((b, BRA_CUPS[c]))
    return out


def alpha_step(size: str) -> int:
    """Ordinal position of an alpha size: XXS -> 0, XS -> 1, ..."""
    try:
        return ALPHA_STEP[size.upper()]
    except KeyError:
        raise ValueError(f"unknown alpha size {size!r}; valid: {', '.join(ALPHA_SIZES)}") from None
