"""Build the pyspark wheel once and keep it outside the repo; print its path.

pyspark is published only as a source archive. uv rebuilds such archives in every
fresh venv when the registry (or a proxy in front of it) sends no cache validators,
and each rebuild adds ~2 GB to its cache. Instead we build the wheel once per sdist
hash, pinned by uv.lock, into a wheelhouse that every clone and venv reuses.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    (pkg,) = [p for p in lock["package"] if p["name"] == "pyspark"]
    version, sha256 = pkg["version"], pkg["sdist"]["hash"].removeprefix("sha256:")
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    house = Path(os.environ.get("JOURNEY_WHEELHOUSE", cache / "customer-journey" / "wheels"))
    target = house / f"pyspark-{version}-{sha256[:16]}"
    built = sorted(target.glob("pyspark-*.whl"))
    if built:
        print(built[0])
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        req = Path(tmp) / "requirements.txt"
        req.write_text(f"pyspark=={version} --hash=sha256:{sha256}\n")
        print(f"building pyspark {version} wheel once into {target}", file=sys.stderr)
        subprocess.run(
            [
                str(ROOT / ".tools" / "bin" / "pip"),
                "wheel",
                "--quiet",
                "--no-deps",
                "--no-cache-dir",
                "--require-hashes",
                "--no-binary",
                "pyspark",
                "-r",
                str(req),
                "-w",
                str(Path(tmp) / "out"),
            ],
            check=True,
            stdout=sys.stderr,
        )
        shutil.move(str(Path(tmp) / "out"), target)
    print(sorted(target.glob("pyspark-*.whl"))[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
