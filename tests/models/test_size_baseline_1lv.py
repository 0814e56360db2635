import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from models.size_baseline_1lv import OneLatentSizeBaseline
from models.size_metrics import average_ovr_auc


@pytest.mark.parametrize(
    "check",
    [
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
        check_get_params_invariance,
        check_set_params,
    ],
)
def test_sklearn_contract_checks_that_apply_to_frame_input(check):
    check("OneLatentSizeBaseline", OneLatentSizeBaseline())


def frame(rows):
    return pd.DataFrame(rows, columns=["customer_id", "product_id", "category", "size", "fit"])


def test_latent_order_follows_the_outcomes():
    # "big" finds M too small twice, "small" finds it too large twice, "mid" keeps it.
    rows = [
        (c, "p", "knickers", "M", f)
        for c, f in [("big", "too_small"), ("small", "too_large"), ("mid", "fit")]
    ]
    data = frame(rows * 2 + [("mid", "q", "knickers", "L", "fit")])
    model = OneLatentSizeBaseline(l2=0.5)
    assert model.fit(data, data["fit"]) is model
    t = dict(zip(model.customers_, model.customer_latent_, strict=True))
    assert t["big"] > t["mid"] > t["small"]
    proba = model.predict_fit_proba(data.head(3))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(model.predict(data.head(3))) == ["too_small", "too_large", "fit"]


def test_recommends_only_sizes_sold_and_nothing_for_unseen_items(fit_data):
    data, _, _ = fit_data
    model = OneLatentSizeBaseline().fit(data, data["fit"])
    assert average_ovr_auc(data["fit"], model.predict_fit_proba(data)) > 0.6
    req = pd.DataFrame(
        {"customer_id": ["c1", "c1"], "product_id": ["p0", "nope"], "category": "bra"}
    )
    rec = model.recommend(req)
    assert rec["recommended_size"].iloc[0] in set(data.loc[data["product_id"] == "p0", "size"])
    assert pd.isna(rec["recommended_size"].iloc[1]) and pd.isna(rec["p_fit"].iloc[1])
