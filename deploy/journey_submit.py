"""``spark-submit`` entry point for the ``journey`` command line (see docs/scale.md).

spark-submit runs a Python file, not a console script; this file is that file. It lives
in its own folder because Python puts the script's folder first on ``sys.path``: from
``serving/`` the module ``serving/models.py`` would hide the ``models`` package.

    spark-submit [spark options] deploy/journey_submit.py score --engine spark --as-of D

Under spark-submit the master, driver and executor settings come from its flags;
``params.yaml`` (``spark:``) still sets the SQL settings, paths and extra ``conf``.
"""

from serving.cli import main

if __name__ == "__main__":
    main()
