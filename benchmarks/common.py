"""Helpers every benchmark uses: timing, peak memory, and writing the results file."""

from __future__ import annotations

import json
import platform
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far, in GB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


@contextmanager
def timed(stages: dict[str, float], name: str) -> Iterator[None]:
    """Record the wall time of the block in ``stages[name]`` (seconds)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        stages[name] = round(time.perf_counter() - start, 3)


def write_results(name: str, figures: dict[str, Any]) -> Path:
    """Print ``figures`` and write them, with the machine they ran on, to results/<name>.json."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {
        **figures,
        "machine": {
            "python": platform.python_version(),
            "cpus": __import__("os").cpu_count(),
            "platform": platform.platform(),
        },
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(json.dumps(figures, indent=2, default=str))
    print(f"wrote {path}")
    return path


def write_section(name: str, section: str, figures: dict[str, Any]) -> Path:
    """Replace one section of results/<name>.json, keeping the others (read-modify-write).

    Several benchmarks can then share a results file, each owning its section (e.g.
    ``cdnow.json`` holds ``clv`` and ``churn``). The machine block is refreshed.
    """
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = json.loads(path.read_text()) if path.exists() else {}
    payload[section] = figures
    payload["machine"] = {
        "python": platform.python_version(),
        "cpus": __import__("os").cpu_count(),
        "platform": platform.platform(),
    }
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"wrote section {section!r} of {path}")
    return path
