import gzip
import json

import pandas as pd
import pytest

from features.io.fit_feedback import load_fit_feedback
from models.size_recommender import SizeRecommender

# Hand-written lines in the published formats (fields as in Misra et al. 2018's files).
MODCLOTH = [
    {"item_id": "123373", "waist": "29", "size": 7, "quality": 5, "cup size": "d", "hips": "38",
     "bra size": "34", "category": "new", "bust": "36", "height": "5ft 6in", "user_name": "Emily",
     "length": "just right", "fit": "small", "user_id": "991571"},
    {"item_id": "123373", "size": 8, "cup size": "dd/e", "bra size": 36.0, "category": "new",
     "fit": "fit", "user_id": "587883", "quality": 4},
    '{"item_id": "123374", "size": 12, "category": "tops", "fit": "large", "user_id": ',
    {"item_id": "123374", "size": 13, "category": "tops", "fit": "fit"},
    {"item_id": "123374", "size": 13, "category": "tops", "fit": "loose", "user_id": "12"},
    {"item_id": "123375", "size": "M", "category": "tops", "fit": "fit", "user_id": "12",
     "bra size": "big"},
    "",
    [1, 2],
    {"item_id": 123375, "size": "14", "category": "tops", "fit": "LARGE", "user_id": 12,
     "bra size": "thirty", "cup size": "c"},
    {"item_id": "123376", "size": None, "category": "tops", "fit": "fit", "user_id": "13",
     "bra size": None},
]  # fmt: skip
RTR = [
    {"fit": "fit", "user_id": "420272", "bust size": "34d", "item_id": "2260466", "weight": "137lbs",
     "rating": "10", "rented for": "vacation", "body type": "hourglass", "category": "romper",
     "height": "5' 8\"", "size": 14, "age": "28", "review_date": "April 20, 2016"},
    {"fit": "small", "user_id": "273551", "bust size": "34b", "item_id": "153475", "size": 12,
     "category": "gown", "review_date": "June 18, 2013"},
    {"fit": "large", "user_id": "273551", "bust size": "big", "item_id": "153475", "size": "16",
     "category": "gown", "review_date": "18/06/2013"},
    {"fit": "fit", "user_id": "1", "item_id": "153475", "size": 8, "category": None},
]  # fmt: skip


def write(tmp_path, name, records, compress=False):
    text = "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n"
    path = tmp_path / name
    if compress:
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


def test_modcloth_lines_parse_and_every_bad_line_is_reported(tmp_path):
    load = load_fit_feedback(write(tmp_path, "modcloth.json", MODCLOTH), "modcloth")
    frame = load.frame
    assert frame["line_number"].tolist() == [1, 2, 9]
    assert frame["customer_id"].tolist() == ["991571", "587883", "12"]
    assert frame["product_id"].tolist() == ["123373", "123373", "123375"]
    assert frame["size"].tolist() == ["7", "8", "14"]
    assert frame["fit"].tolist() == ["too_small", "fit", "too_large"]
    assert frame["customer_band"].tolist() == [34, 36, pd.NA]
    assert frame["customer_cup"].tolist() == ["d", "dd/e", "c"]
    assert frame["ts"].isna().all()
    problems = load.problems.drop(columns="value").to_dict("records")
    assert problems == [
        {"line_number": 3, "field": "<line>", "problem": "not valid JSON: Expecting value", "action": "rejected"},
        {"line_number": 4, "field": "user_id", "problem": "missing", "action": "rejected"},
        {"line_number": 5, "field": "fit", "problem": "not one of small, fit, large", "action": "rejected"},
        {"line_number": 6, "field": "size", "problem": "not a number", "action": "rejected"},
        {"line_number": 7, "field": "<line>", "problem": "blank line", "action": "rejected"},
        {"line_number": 8, "field": "<line>", "problem": "not a JSON object", "action": "rejected"},
        {"line_number": 9, "field": "bra size", "problem": "not a band (20-60)", "action": "nulled"},
        {"line_number": 10, "field": "size", "problem": "missing", "action": "rejected"},
    ]  # fmt: skip
    assert load.problems["value"].tolist()[3:6] == ["M", "", "[1, 2]"]
    assert load.problems["value"].iloc[6] == "thirty"
    assert load.lines_read == 10 and load.rejected_lines == 7 and load.reconciles


def test_renttherunway_lines_parse_dates_and_bust_sizes(tmp_path):
    load = load_fit_feedback(write(tmp_path, "rtr.json.gz", RTR, compress=True), "renttherunway")
    frame = load.frame
    assert frame["fit"].tolist() == ["fit", "too_small", "too_large"]
    assert frame["size"].tolist() == ["14", "12", "16"]
    assert frame["ts"].tolist()[:2] == [pd.Timestamp("2016-04-20"), pd.Timestamp("2013-06-18")]
    assert pd.isna(frame["ts"].iloc[2])
    assert frame["customer_band"].tolist() == [34, 34, pd.NA]
    assert frame["customer_cup"].tolist()[:2] == ["d", "b"]
    problems = load.problems[["line_number", "field", "value", "action"]].to_dict("records")
    assert problems == [
        {"line_number": 3, "field": "bust size", "value": "big", "action": "nulled"},
        {"line_number": 3, "field": "review_date", "value": "18/06/2013", "action": "nulled"},
        {"line_number": 4, "field": "category", "value": "null", "action": "rejected"},
    ]
    assert load.reconciles


def test_the_frame_fits_the_recommender(tmp_path):
    load = load_fit_feedback(write(tmp_path, "rtr.json", RTR), "renttherunway")
    model = SizeRecommender(
        size_systems={"romper": "dresses", "gown": "dresses"}, time_col=None, n_em_iter=3
    )
    model.fit(load.frame, load.frame["fit"])
    assert model.systems_["dresses"].kind == "numeric"
    assert model.recommend(load.frame.head(1))["recommended_size"].iloc[0] in {"12", "14", "16"}


def test_unknown_dataset_and_missing_file(tmp_path):
    with pytest.raises(
        ValueError, match="unknown fit-feedback dataset 'modclth'. Did you mean 'modcloth'"
    ):
        load_fit_feedback(tmp_path / "x.json", "modclth")
    with pytest.raises(FileNotFoundError, match="fit-feedback file not found"):
        load_fit_feedback(tmp_path / "x.json", "modcloth")
