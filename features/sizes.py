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


# --- size systems as coordinates -------------------------------------------------------
# A size *kind* says how labels turn into ordinal coordinates (in steps):
#   bra     -> (band_step, cup_volume): two dimensions, so sister sizes share a coordinate
#   alpha   -> (alpha_step,)
#   numeric -> (the number,), e.g. dress sizes 8, 10, 12 or ModCloth's 0-38 index
SIZE_KINDS = ("bra", "alpha", "numeric")
KIND_DIMS = {"bra": 2, "alpha": 1, "numeric": 1}
KIND_DIM_NAMES = {"bra": ("band", "cup_volume"), "alpha": ("alpha",), "numeric": ("size",)}


def _bra_coordinate(label: str) -> tuple[float, float]:
    band, cup = parse_bra_size(label)
    b = float(band_step(band))
    return b, b + cup_step(cup)


def _alpha_coordinate(label: str) -> tuple[float]:
    return (float(alpha_step(label.strip())),)


def _numeric_coordinate(label: str) -> tuple[float]:
    try:
        value = float(label)
    except ValueError:
        raise ValueError(f"not a numeric size: {label!r}") from None
    if not np.isfinite(value):
        raise ValueError(f"not a numeric size: {label!r}")
    return (value,)


_COORDINATE = {"bra": _bra_coordinate, "alpha": _alpha_coordinate, "numeric": _numeric_coordinate}


def check_size_kind(kind: str) -> str:
    if kind not in SIZE_KINDS:
        from features.errors import unknown_name_message

        raise ValueError(unknown_name_message("size kind", kind, SIZE_KINDS))
    return kind


def infer_size_kind(labels) -> str:
    """The first kind (bra, alpha, numeric) that parses every label; else a ValueError."""
    unique = sorted({str(label) for label in labels})
    if not unique:
        raise ValueError("cannot infer a size kind from no labels")
    for kind in SIZE_KINDS:
        try:
            for label in unique:
                _COORDINATE[kind](label)
        except ValueError:
            continue
        return kind
    raise ValueError(
        f"size labels mix kinds or parse as none of {', '.join(SIZE_KINDS)}: "
        f"{', '.join(map(repr, unique[:8]))}{' ...' if len(unique) > 8 else ''}"
    )


def size_coordinates(labels, kind: str) -> np.ndarray:
    """Labels -> float array ``(n, KIND_DIMS[kind])`` of ordinal coordinates in steps.

    Parses each distinct label once, so it is fast on a million rows. A bad label raises
    ``ValueError`` naming the label and its first position.
    """
    check_size_kind(kind)
    labels = np.asarray([str(x) for x in labels], dtype=object)
    unique, inverse = np.unique(labels, return_inverse=True)
    table = np.empty((len(unique), KIND_DIMS[kind]))
    for i, label in enumerate(unique):
        try:
            table[i] = _COORDINATE[kind](label)
        except ValueError as err:
            row = int(np.flatnonzero(inverse == i)[0])
            raise ValueError(f"row {row}: {err}") from None
    return table[inverse.reshape(-1)]


def size_grid(kind: str, observed=None) -> tuple[np.ndarray, list[str]]:
    """Every size of a kind as ``(coordinates, labels)``, ordered.

    Bras and alpha sizes have a fixed range; numeric sizes are the distinct ``observed``
    labels (a product line only sells the numbers it sells).
    """
    check_size_kind(kind)
    if kind == "bra":
        pairs = [(b, c) for b in BRA_BANDS for c in BRA_CUPS]
        coords = np.array([_bra_coordinate(bra_label(b, c)) for b, c in pairs])
        return coords, [bra_label(b, c) for b, c in pairs]
    if kind == "alpha":
        return np.arange(len(ALPHA_SIZES), dtype=float)[:, None], list(ALPHA_SIZES)
    if observed is None:
        raise ValueError("numeric sizes need the observed labels to build their grid")
    by_value: dict[float, str] = {}
    for label in sorted({str(x) for x in observed}):
        by_value.setdefault(_numeric_coordinate(label)[0], label)
    values = sorted(by_value)
    return np.array(values, dtype=float)[:, None], [by_value[v] for v in values]
