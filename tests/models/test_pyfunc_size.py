"""The registered ``size`` model's pyfunc: columns, order, cold start, bad requests."""

import mlflow
import pandas as pd
import pytest

from features.errors import JourneyError
from models.pyfunc_size import OUTPUT_COLUMNS, SizePyfunc, size_signature


@pytest.fixture(scope="module")
def pyfunc(fitted, fit_data):
    products = fit_data[2]
    return SizePyfunc(fitted, dict(zip(products["product_id"], products["category"], strict=True)))


def test_output_columns_row_order_and_notes(pyfunc, true_to_size):
    req = pd.DataFrame(
        {
            "customer_id": ["e4", "new-one", "e4", "new-one"],
            "product_id": [true_to_size, true_to_size, None, None],
            "category": [None, None, "bra", "knickers"],
        }
    )
    out = pyfunc.predict(None, req)
    assert tuple(out.columns) == OUTPUT_COLUMNS
    assert out["customer_id"].tolist() == ["e4", "new-one", "e4", "new-one"]
    assert out["recommended_size"].iloc[0] == "34C"  # kept 34C four times, true to size
    assert out["size_note"].iloc[0].startswith("based on 4 earlier purchases in bra sizes")
    top = pyfunc.recommender.recommend(
        pd.DataFrame({"customer_id": ["x"], "product_id": [true_to_size], "category": ["bra"]})
    )["recommended_size"].iloc[0]
    assert out["size_note"].iloc[1] == f"new customer: most customers take {top} in this style"
    assert out["size_note"].iloc[3].startswith("new customer: most customers take ")
    assert out["size_note"].iloc[3].endswith(" in this category (knickers)")
    probs = out[["p_too_small", "p_fit", "p_too_large"]].sum(axis=1)
    assert probs.round(9).eq(1.0).all()
    assert out["size_confidence"].between(0, 1).all()
    # more evidence, more confidence
    e = pyfunc.predict(None, pd.DataFrame({"customer_id": ["e1", "e4"], "category": ["bra"] * 2}))
    assert e["size_confidence"].iloc[1] > e["size_confidence"].iloc[0]


def test_bad_requests_name_what_is_wrong(pyfunc):
    with pytest.raises(JourneyError, match="1 unknown product_id"):
        pyfunc.predict(None, pd.DataFrame({"customer_id": ["a"], "product_id": ["nope"]}))
    with pytest.raises(JourneyError, match="rows 0 have neither product_id nor category"):
        pyfunc.predict(None, pd.DataFrame({"customer_id": ["a"], "category": [None]}))
    with pytest.raises(JourneyError, match="valid: bra, knickers"):
        pyfunc.predict(None, pd.DataFrame({"customer_id": ["a"], "category": ["hats"]}))


def test_saved_model_enforces_the_signature(pyfunc, tmp_path, true_to_size):
    req = pd.DataFrame({"customer_id": ["e4"], "product_id": [true_to_size]})
    mlflow.pyfunc.save_model(
        tmp_path / "m", python_model=pyfunc, signature=size_signature(), input_example=req
    )
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    assert loaded.metadata.signature.inputs.input_names() == [
        "customer_id", "product_id", "category"
    ]  # fmt: skip
    out = loaded.predict(req)
    assert tuple(out.columns) == OUTPUT_COLUMNS and out["recommended_size"].iloc[0] == "34C"
    with pytest.raises(Exception, match="customer_id"):
        loaded.predict(pd.DataFrame({"product_id": [true_to_size]}))
