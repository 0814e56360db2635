import numpy as np
import pandas as pd
import pytest

from models.size_metrics import (
    average_ovr_auc,
    fit_return_rates,
    hit_rate,
    per_class_auc,
    true_size_recovery,
)


def mann_whitney_auc(positive_scores, negative_scores):
    """Share of (positive, negative) pairs ranked right, ties counting half."""
    wins = sum((p > n) + 0.5 * (p == n) for p in positive_scores for n in negative_scores)
    return wins / (len(positive_scores) * len(negative_scores))


def test_average_auc_against_pairwise_counting():
    y = np.array(["fit", "too_small", "fit", "too_large", "too_small", "fit"])
    proba = np.array(
        [
            [0.1, 0.8, 0.1],
            [0.6, 0.3, 0.1],
            [0.2, 0.5, 0.3],
            [0.1, 0.3, 0.6],
            [0.2, 0.6, 0.2],
            [0.3, 0.3, 0.4],
        ]
    )
    expected = {}
    for k, cls in enumerate(["too_small", "fit", "too_large"]):
        expected[cls] = mann_whitney_auc(proba[y == cls, k], proba[y != cls, k])
    assert per_class_auc(y, proba) == pytest.approx(expected)
    assert expected["too_small"] == pytest.approx(6.5 / 8)  # one tie counts half
    assert average_ovr_auc(y, proba) == pytest.approx(np.mean(list(expected.values())))


def test_auc_errors_name_the_problem():
    with pytest.raises(ValueError, match="AUC of 'too_large' is undefined"):
        average_ovr_auc(["fit", "too_small"], np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match=r"y_true holds \['loose'\]"):
        average_ovr_auc(["fit", "loose"], np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        average_ovr_auc(["fit", "too_small"], np.full((2, 2), 0.5))


def test_hit_rate_counts_kept_purchases_only():
    bought = ["34C", "34C", "36B", "M", "L"]
    recommended = ["34C", "32D", "36B", None, "L"]
    outcome = ["fit", "fit", "too_small", "fit", "fit"]
    assert hit_rate(bought, recommended, outcome) == pytest.approx(2 / 4)
    with pytest.raises(ValueError, match="no purchase has outcome 'fit'"):
        hit_rate(["M"], ["M"], ["too_small"])


def test_fit_return_rates_use_the_oracle_on_both_sizes():
    purchases = pd.DataFrame({"customer_id": ["a", "b"], "size": ["34C", "M"]})
    table = {("a", "34C"): 0.5, ("a", "36C"): 0.9, ("b", "M"): 0.8}

    def oracle(frame):
        p_fit = np.array(
            [table[(c, s)] for c, s in zip(frame["customer_id"], frame["size"], strict=True)]
        )
        return np.column_stack([(1 - p_fit) / 2, p_fit, (1 - p_fit) / 2])

    rates = fit_return_rates(purchases, ["36C", "M"], oracle)
    assert rates == pytest.approx(
        {"bought": 0.35, "recommended": 0.15, "reduction": 1 - 0.15 / 0.35}
    )
    assert purchases["size"].tolist() == ["34C", "M"]
    with pytest.raises(ValueError, match="1 purchases have no recommended size"):
        fit_return_rates(purchases, ["36C", None], oracle)


def test_true_size_recovery():
    assert true_size_recovery(["34C", "M", "10"], ["34C", "L", 10]) == pytest.approx(2 / 3)
