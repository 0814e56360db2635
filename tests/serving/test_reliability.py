"""What the nightly scorer does when things go wrong: kills, locks, bad inputs, lost stores."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from features.errors import JourneyError
from features.io.warehouse import connect
from serving import manifest
from serving.lock import LockedError, scoring_lock
from serving.models import ModelError
from serving.nightly import missed_dates, run_nightly
from serving.score import ScoringError, score_date

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2024, 7, 1)

KILLER = """
import datetime as dt, os, signal, sys
from features.config import load_params
from features.errors import JourneyError
from features.io.warehouse import connect
import serving.writeback as wb
from serving.score import score_date

params = load_params(sys.argv[1], env={})
real = wb.replace_rows

def replace_then_die(con, name, expr, *, where):
    real(con, name, expr, where=where)  # old rows deleted, new ones inserted, not committed
    os.kill(os.getpid(), signal.SIGKILL)

wb.replace_rows = replace_then_die
score_date(connect(params.warehouse.url), dt.date(2024, 7, 1), params=params)
"""


def rows_by_run(url):
    con = connect(url)
    t = con.table("predictions")
    out = t.group_by(["as_of", "run_id"]).aggregate(n=t.count()).to_pandas()
    con.disconnect()
    return out


def test_killed_mid_write_leaves_the_previous_rows_and_a_rerun_repairs(serving_env):
    params, url = serving_env
    con = connect(url)
    before = score_date(con, AS_OF, params=params).run.run_id
    con.disconnect()
    script = params.root / "killer.py"
    script.write_text(KILLER)
    proc = subprocess.run(
        [sys.executable, str(script), str(params.root / "params.yaml")],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    counts = rows_by_run(url)
    assert counts.run_id.tolist() == [before] and counts.n.tolist() == [3]
    con = connect(url)
    runs = manifest.runs(con)
    assert runs.status.tolist() == ["succeeded", "running"]  # the dead run could not say
    after = score_date(con, AS_OF, params=params).run.run_id
    runs = manifest.runs(con)
    assert runs.status.tolist() == ["succeeded", "failed", "succeeded"]
    assert runs.error.iloc[1] == manifest.INTERRUPTED
    con.disconnect()
    counts = rows_by_run(url)
    assert counts.run_id.tolist() == [after] and counts.n.tolist() == [3]


def test_a_second_run_exits_with_a_message_or_waits(serving_env):
    params, url = serving_env
    lock = params.path(params.serving.lock_path)
    con = connect(url)
    with scoring_lock(lock):
        with pytest.raises(LockedError, match="another scoring run holds .*pass --wait SECONDS"):
            run_nightly(con, params=params, until=AS_OF)
    assert "scoring_runs" not in con.list_tables()  # nothing touched

    held = threading.Event()

    def hold():
        with scoring_lock(lock):
            held.set()
            time.sleep(1.0)

    t = threading.Thread(target=hold)
    t.start()
    held.wait()
    done = run_nightly(con, params=params, until=AS_OF, wait_seconds=30)
    t.join()
    assert done.dates == [AS_OF] and done.results[0].run.status == "succeeded"


def test_missed_dates():
    d = dt.date
    assert missed_dates(None, d(2024, 7, 3)) == [d(2024, 7, 3)]
    assert missed_dates(d(2024, 7, 1), d(2024, 7, 3)) == [d(2024, 7, 2), d(2024, 7, 3)]
    assert missed_dates(d(2024, 7, 3), d(2024, 7, 3)) == []


def test_a_corrupt_parquet_input_is_a_clear_error(serving_env):
    params, url = serving_env
    con = connect(url)
    score_date(con, AS_OF, params=params)
    orders = params.root / "orders.parquet"
    pq.write_table(con.table("orders").to_pyarrow(), orders)
    con.raw_sql("DROP TABLE orders")
    con.raw_sql(f"CREATE VIEW orders AS SELECT * FROM read_parquet('{orders}')")
    orders.write_bytes(b"PAR1 this is not a parquet file")
    with pytest.raises(ScoringError, match=r"failed reading the warehouse: .*orders\.parquet"):
        score_date(con, AS_OF, params=params)
    runs = manifest.runs(con)
    assert runs.status.tolist() == ["succeeded", "failed"]
    t = con.table("predictions")
    assert t.count().to_pandas() == 3  # the earlier rows are intact


def test_an_unreachable_tracking_store_is_a_clear_error_and_nothing_is_written(
    serving_env, monkeypatch
):
    params, url = serving_env
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "3")
    lost = params.model_copy(
        update={"mlflow": params.mlflow.model_copy(update={"tracking_uri": "http://127.0.0.1:9"})}
    )
    con = connect(url)
    with pytest.raises(ModelError, match="tracking store http://127.0.0.1:9 cannot be reached"):
        score_date(con, AS_OF, params=lost)
    assert "predictions" not in con.list_tables()
    assert "drift" not in con.list_tables()
    assert manifest.runs(con).status.tolist() == ["failed"]


def test_an_interrupted_parquet_swap_is_repaired_and_a_corrupt_file_named(tmp_path):
    """A Parquet partition a crash left half-swapped is repaired on the next open."""
    from serving.predictions import PREDICTIONS_SCHEMA
    from serving.writeback import ParquetTarget

    target = ParquetTarget(tmp_path / "p")
    rows = PREDICTIONS_SCHEMA.empty_table()
    target.write(AS_OF, rows)
    live = tmp_path / "p" / "as_of=2024-07-01"
    live.rename(live.with_name("as_of=2024-07-01.old-abc"))  # crash between the two renames
    (tmp_path / "p" / "as_of=2024-07-01.tmp-abc").mkdir()
    assert target.read().empty
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["as_of=2024-07-01"]
    bad = live / "part-0.parquet"
    bad.write_bytes(b"garbage")
    with pytest.raises(JourneyError, match=r"corrupt predictions file .*part-0\.parquet"):
        target.read()
