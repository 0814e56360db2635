"""``spark-submit`` entry point for the ``journey`` command line (see docs/scale.md).

spark-submit runs a Python file, not a console script; this file is that file:

    spark-submit [spark options] serving/spark_submit.py score --engine spark --as-of D

Python puts a script's own folder first on ``sys.path``, and from ``serving/`` the module
``serving/models.py`` would hide the ``models`` package, so that folder is taken off the
path before anything of the project is imported (the project is installed in the venv).

Under spark-submit the master, driver and executor settings come from its flags;
``params.yaml`` (``spark:``) still sets the SQL settings, paths and extra ``conf``.
"""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

from serving.cli import main  # noqa: E402

if __name__ == "__main__":
    main()
