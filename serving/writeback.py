"""Where predictions go: the warehouse (default), any Ibis backend URL, or Parquet folders.

Every target replaces one ``as_of`` date at a time, so re-scoring a date never duplicates
rows, and does it atomically:

- an Ibis backend (DuckDB, PostgreSQL, ...) deletes the date's rows and inserts the new
  ones in one transaction (:func:`features.io.warehouse.replace_rows`);
- a Parquet folder holds one ``as_of=YYYY-MM-DD`` partition per date. The new partition is
  written beside the old one and swapped in by renames; an interrupted swap is repaired
  the next time the target is opened.
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import ibis
import pandas as pd
import pyarrow as pa

from features.config import url_path
from features.errors import JourneyError
from features.io.warehouse import connect, replace_rows, transaction
from serving.predictions import AS_OF, KEY, PREDICTIONS_SCHEMA

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

PREDICTIONS_TABLE = "predictions"
PARQUET_SCHEME = "parquet://"


def redact(url: str) -> str:
    """``postgres://user:***@host/db``: a URL without its password, for logs and manifests."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in creds:
        return url
    return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"


class IbisTarget:
    """Predictions in a table of an Ibis backend, keyed by (customer_id, as_of)."""

    def __init__(self, url: str, con: BaseBackend | None = None) -> None:
        self.url = url
        self._con = con

    @property
    def con(self) -> BaseBackend:
        if self._con is None:
            try:
                self._con = connect(self.url)
            except JourneyError:
                raise
            except Exception as err:
                raise JourneyError(
                    f"write-back target {redact(self.url)} cannot be opened: {err}"
                ) from None
        return self._con

    def replace_date(self, as_of: dt.date, rows: pa.Table) -> None:
        """Replace ``as_of``'s rows; callers wrap this in a transaction on :attr:`con`."""
        replace_rows(self.con, PREDICTIONS_TABLE, ibis.memtable(rows), where={AS_OF: as_of})

    def write(self, as_of: dt.date, rows: pa.Table) -> None:
        with transaction(self.con):
            self.replace_date(as_of, rows)

    def read(self, *, since: dt.date | None = None, until: dt.date | None = None) -> pd.DataFrame:
        if PREDICTIONS_TABLE not in self.con.list_tables():
            return PREDICTIONS_SCHEMA.empty_table().to_pandas()
        t = self.con.table(PREDICTIONS_TABLE)
        if since is not None:
            t = t.filter(t[AS_OF] >= since)
        if until is not None:
            t = t.filter(t[AS_OF] <= until)
        return t.order_by([AS_OF, KEY]).to_pyarrow().to_pandas()


class ParquetTarget:
    """Predictions as Parquet under ``folder/as_of=YYYY-MM-DD/``, one partition per date."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.url = f"{PARQUET_SCHEME}{folder}"

    def _partition(self, as_of: dt.date) -> Path:
        return self.folder / f"{AS_OF}={as_of:%Y-%m-%d}"

    def repair(self) -> None:
        """Finish or undo a swap that a crash interrupted; drop half-written partitions."""
        if not self.folder.is_dir():
            return
        for old in self.folder.glob(f"{AS_OF}=*.old-*"):
            live = self.folder / old.name.split(".old-")[0]
            if live.exists():
                shutil.rmtree(old)
            else:
                old.rename(live)
        for tmp in self.folder.glob(f"{AS_OF}=*.tmp-*"):
            shutil.rmtree(tmp)

    def write(self, as_of: dt.date, rows: pa.Table) -> None:
        import pyarrow.parquet as pq

        self.repair()
        live = self._partition(as_of)
        token = uuid.uuid4().hex[:8]
        tmp = live.with_name(f"{live.name}.tmp-{token}")
        tmp.mkdir(parents=True)
        # as_of lives in the folder name (hive partitioning), not in the file.
        pq.write_table(rows.drop_columns([AS_OF]), tmp / "part-0.parquet")
        if live.exists():
            old = live.with_name(f"{live.name}.old-{token}")
            live.rename(old)
            tmp.rename(live)
            shutil.rmtree(old)
        else:
            tmp.rename(live)

    def read(self, *, since: dt.date | None = None, until: dt.date | None = None) -> pd.DataFrame:
        import pyarrow.parquet as pq

        self.repair()
        frames = []
        for part in sorted(self.folder.glob(f"{AS_OF}=*")) if self.folder.is_dir() else []:
            day = dt.date.fromisoformat(part.name.split("=", 1)[1])
            if (since is not None and day < since) or (until is not None and day > until):
                continue
            for file in sorted(part.glob("*.parquet")):
                try:
                    table = pq.read_table(file, schema=PREDICTIONS_SCHEMA.remove(1))
                except (pa.ArrowInvalid, OSError) as err:
                    raise JourneyError(f"corrupt predictions file {file}: {err}") from None
                frames.append(table.to_pandas().assign(**{AS_OF: day}))
        if not frames:
            return PREDICTIONS_SCHEMA.empty_table().to_pandas()
        out = pd.concat(frames, ignore_index=True)[PREDICTIONS_SCHEMA.names]
        return out.sort_values([AS_OF, KEY], kind="stable").reset_index(drop=True)


Target = IbisTarget | ParquetTarget


def open_target(url: str | None, *, warehouse_url: str, warehouse: BaseBackend) -> Target:
    """The write-back target for ``url``; None (or the warehouse's own URL) is the warehouse."""
    if url is None or url == warehouse_url:
        return IbisTarget(warehouse_url, warehouse)
    if url.startswith(PARQUET_SCHEME):
        path = url_path(url)
        if path is None:
            raise JourneyError(
                f"write-back URL {url!r}: use parquet:///relative/folder or parquet:////abs/folder"
            )
        return ParquetTarget(path)
    return IbisTarget(url)


def is_warehouse(target: Target, warehouse: BaseBackend) -> bool:
    """True when predictions share the warehouse connection (one transaction for everything)."""
    return isinstance(target, IbisTarget) and target._con is warehouse
