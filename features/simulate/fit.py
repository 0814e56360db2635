"""Sizes and the fit model: how a size fits a customer, as an ordinal outcome.

Sizes are integer steps. Bras: band step ``b`` (band = 28 + 2b, 28-46) and cup index ``c``
(AA..H, EU lettering). Cup *volume* is ``c + b``, so sister sizes (34C, 32D, 36B) share a
volume. Other categories use alpha sizes XS..XXL, index ``a``.

The signed gap of a bought size against the true size, in size steps (positive = larger):

- bra: ``band_weight * (b - b_true) + (volume - volume_true)``;
- alpha: ``a - a_true``.

Each product runs large (positive ``size_offset``) or small (negative). With
``x = gap + size_offset`` and a standard logistic noise, the outcome is ``too_small`` below
``-threshold``, ``too_large`` above ``threshold`` and ``fit`` between::

    P(too_small) = expit((-threshold - x) / noise_scale)
    P(too_large) = expit((x - threshold) / noise_scale)

A misfitting line is returned with probability ``return_if_misfit``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from features.config import SimFitParams
from features.contract.schema import BRA_BANDS, BRA_CUPS

ALPHA = ("XS", "S", "M", "L", "XL", "XXL")
N_BANDS = len(BRA_BANDS)
N_CUPS = len(BRA_CUPS)
N_ALPHA = len(ALPHA)


def bra_label(band_step: np.ndarray, cup: np.ndarray) -> np.ndarray:
    """``"34C"``-style labels from band steps and cup indices."""
    return np.char.add(
        np.asarray(BRA_BANDS)[band_step].astype(str), np.asarray(BRA_CUPS)[cup].astype(str)
    )


def parse_size(labels: np.ndarray | list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels -> ``(band_step, cup, alpha)`` index arrays; -1 where not applicable.

    ``"34C"`` is a bra size, ``"M"`` an alpha size; anything else raises ``ValueError``
    naming the label and the valid sizes.
    """
    labels = [str(x) for x in np.atleast_1d(np.asarray(labels, dtype=object))]
    band = np.full(len(labels), -1)
    cup = np.full(len(labels), -1)
    alpha = np.full(len(labels), -1)
    alpha_index = {a: i for i, a in enumerate(ALPHA)}
    band_index = {str(b): i for i, b in enumerate(BRA_BANDS)}
    cup_index = {c: i for i, c in enumerate(BRA_CUPS)}
    for i, label in enumerate(labels):
        if label in alpha_index:
            alpha[i] = alpha_index[label]
        elif label[:2] in band_index and label[2:] in cup_index:
            band[i], cup[i] = band_index[label[:2]], cup_index[label[2:]]
        else:
            raise ValueError(
                f"size {label!r} is neither a bra size (band {BRA_BANDS[0]}-{BRA_BANDS[-1]} "
                f"+ cup {', '.join(BRA_CUPS)}) nor one of {', '.join(ALPHA)}"
            )
    return band, cup, alpha


def bra_gap(true_band, true_cup, band, cup, *, band_weight: float) -> np.ndarray:
    """Signed gap in size steps of bra ``(band, cup)`` against the true size (indices)."""
    db = np.asarray(band) - np.asarray(true_band)
    dv = (np.asarray(cup) - np.asarray(true_cup)) + db
    return band_weight * db + dv


def alpha_gap(true_alpha, alpha) -> np.ndarray:
    """Signed gap in size steps of alpha size index ``alpha`` against the true one."""
    return (np.asarray(alpha) - np.asarray(true_alpha)).astype(np.float64)


def fit_probabilities_from_gap(
    gap, size_offset, *, fit: SimFitParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(P(too_small), P(fit), P(too_large))`` for a gap and a product's size offset."""
    x = np.asarray(gap, dtype=np.float64) + np.asarray(size_offset, dtype=np.float64)
    small = expit((-fit.threshold - x) / fit.noise_scale)
    large = expit((x - fit.threshold) / fit.noise_scale)
    return small, 1.0 - small - large, large


def fit_probabilities(
    true_size, size, size_offset, *, fit: SimFitParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(P(too_small), P(fit), P(too_large))`` of buying ``size`` of a product.

    Parameters
    ----------
    true_size
        The customer's true size label(s) of the same kind: ``"34C"`` for bras (the
        ``true_size`` column of ``truth_customers``) or ``"M"`` (``true_alpha``).
    size
        Candidate size label(s) bought, e.g. a recommendation.
    size_offset
        The product's ``size_offset`` from ``truth_products`` (positive runs large).
    fit
        ``params.simulate.fit``.
    """
    tb, tc, ta = parse_size(np.atleast_1d(true_size))
    b, c, a = parse_size(np.atleast_1d(size))
    if not (np.array_equal(tb >= 0, b >= 0)):
        raise ValueError("true_size and size must be of the same kind (both bra or both alpha)")
    gap = np.where(b >= 0, bra_gap(tb, tc, b, c, band_weight=fit.band_weight), alpha_gap(ta, a))
    return fit_probabilities_from_gap(gap, size_offset, fit=fit)


def fit_return_probability(true_size, size, size_offset, *, fit: SimFitParams) -> np.ndarray:
    """P(the line is returned for fit): ``return_if_misfit * (1 - P(fit))``."""
    _, p_fit, _ = fit_probabilities(true_size, size, size_offset, fit=fit)
    return fit.return_if_misfit * (1.0 - p_fit)
