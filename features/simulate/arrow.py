"""Fast pyarrow columns: fixed-width ids, dictionary-encoded labels, timestamps."""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def fixed_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.StringArray:
    """``prefix`` + zero-padded ``numbers`` as a string array, built without Python loops."""
    numbers = np.asarray(numbers, dtype=np.int64)
    n, w = len(numbers), len(prefix) + width
    buf = np.empty((n, w), dtype=np.uint8)
    buf[:, : len(prefix)] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    rest = numbers.copy()
    for k in range(width - 1, -1, -1):
        buf[:, len(prefix) + k] = 48 + rest % 10
        rest //= 10
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf.reshape(-1)))


def id_width(n: int, minimum: int = 6) -> int:
    return max(minimum, len(str(max(n - 1, 0))))


def labels(index: np.ndarray, vocabulary, *, null_below_zero: bool = True) -> pa.DictionaryArray:
    """Dictionary-encoded strings: ``vocabulary[index]``, null where ``index < 0``."""
    index = np.asarray(index)
    small = index.astype(np.int32) if len(vocabulary) > 127 else index.astype(np.int8)
    mask = index < 0 if null_below_zero else None
    idx = pa.array(np.where(index < 0, 0, small), mask=mask)
    return pa.DictionaryArray.from_arrays(idx, pa.array(list(vocabulary), type=pa.string()))


def dictionary(index: np.ndarray, values: pa.Array) -> pa.DictionaryArray:
    """Dictionary array over already-built ``values`` (e.g. customer ids); -1 is null."""
    index = np.asarray(index)
    mask = index < 0 if (index < 0).any() else None
    idx = pa.array(np.where(index < 0, 0, index).astype(np.int32), mask=mask)
    return pa.DictionaryArray.from_arrays(idx, values)


def timestamps(us: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Naive UTC microsecond timestamps; ``valid`` False gives null."""
    mask = None if valid is None else ~np.asarray(valid)
    return pa.array(np.asarray(us, dtype=np.int64), mask=mask).view(pa.timestamp("us"))
