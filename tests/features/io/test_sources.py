"""Sources: every row keeps its file and its row; CSV arrives as text, Parquet typed."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from features.errors import ContractError
from features.io.sources import find_files, read_source


def rows(source):
    return source.expr.order_by(["_source", "_row"]).to_pyarrow().to_pylist()


def test_csv_rows_are_numbered_from_one_within_their_file_and_read_as_text(con, tmp_path):
    (tmp_path / "a.csv").write_text("id,amount\n1,2.50\n2,\n")
    src = read_source(con, "a.csv", name="a", base=tmp_path)
    assert src.columns == ("id", "amount")
    assert src.rows == 2
    assert rows(src) == [
        {"id": "1", "amount": "2.50", "_row": 1, "_source": str(tmp_path / "a.csv")},
        {"id": "2", "amount": None, "_row": 2, "_source": str(tmp_path / "a.csv")},
    ]


def test_a_glob_or_folder_reads_every_file_each_numbered_from_one(con, tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "b.csv").write_text("id\nb1\n")
    (tmp_path / "x" / "a.csv").write_text("id\na1\na2\n")
    (tmp_path / "x" / "notes.md").write_text("not data")
    by_glob = read_source(con, "x/*.csv", name="g", base=tmp_path)
    by_folder = read_source(con, tmp_path / "x", name="f")
    expected = [("a.csv", 1, "a1"), ("a.csv", 2, "a2"), ("b.csv", 1, "b1")]
    for src in (by_glob, by_folder):
        assert [(r["_source"].rsplit("/", 1)[1], r["_row"], r["id"]) for r in rows(src)] == expected
        assert src.rows == 3


def test_parquet_arrives_typed_with_its_row_numbers(con, tmp_path):
    pq.write_table(pa.table({"id": ["o1", "o2"], "revenue": [1.5, -2.0]}), tmp_path / "o.parquet")
    src = read_source(con, "o.parquet", name="o", base=tmp_path)
    assert str(src.expr.schema()["revenue"]) == "float64"
    assert [(r["_row"], r["id"], r["revenue"]) for r in rows(src)] == [
        (1, "o1", 1.5),
        (2, "o2", -2.0),
    ]


def test_options_reach_the_csv_reader(con, tmp_path):
    (tmp_path / "a.txt").write_text("# exported\nid;name\n1;x\n")
    src = read_source(con, "a.txt", name="a", base=tmp_path, options={"delim": ";", "skip": 1})
    assert [(r["_row"], r["id"], r["name"]) for r in rows(src)] == [(1, "1", "x")]


def test_files_of_one_source_must_have_the_same_columns(con, tmp_path):
    (tmp_path / "a.csv").write_text("id,x\n1,2\n")
    (tmp_path / "b.csv").write_text("id,y\n1,2\n")
    with pytest.raises(
        ContractError, match=r"b\.csv: columns differ from a\.csv: missing x; extra y$"
    ):
        read_source(con, "*.csv", name="s", base=tmp_path)


def test_a_folder_without_data_files_is_an_error(tmp_path):
    with pytest.raises(ContractError, match=r"matches no CSV or Parquet files"):
        find_files(tmp_path, base=tmp_path)
