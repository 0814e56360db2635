"""The ``journey`` command line: the one module that wires every package together.

Commands import their work lazily, so ``journey --help`` stays fast and a command only
pays for the libraries it uses. Errors a user can act on print without a traceback.
"""

from __future__ import annotations

import datetime as dt
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from features.errors import JourneyError

app = typer.Typer(
    name="journey",
    help="Customer-journey ML: load, simulate, build features, train, score, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
train_app = typer.Typer(
    help="Train a model, log it to MLflow and register it if it passes its gates."
)
app.add_typer(train_app, name="train")
tune_app = typer.Typer(help="Search a model's hyperparameters with Optuna, tracked in MLflow.")
app.add_typer(tune_app, name="tune")

ParamsOpt = Annotated[
    Path,
    typer.Option("--params", help="Params file; relative paths in it resolve against its folder."),
]


class Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


EngineOpt = Annotated[
    Engine,
    typer.Option(
        "--engine",
        help="duckdb: the warehouse; spark: Parquet in and out on Spark (params.yaml `spark:`).",
    ),
]
SourceOpt = Annotated[
    str | None,
    typer.Option(
        "--source",
        help="With --engine spark: the canonical tables' Parquet folder [default: spark.source].",
    ),
]


def _params(path: Path):
    from features.config import load_params

    return load_params(path)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def print_load_report(report) -> None:
    """Rows read, accepted and quarantined per table, and the top quarantine reasons."""
    t = RichTable(title=f"load {report.load_id} ({report.dataset})")
    for col in ("table", "read", "accepted", "quarantined", "reconciles"):
        t.add_column(col, justify="left" if col == "table" else "right")
    for r in report.reports.values():
        t.add_row(
            r.table,
            f"{r.read:,}",
            f"{r.accepted:,}",
            f"{r.quarantined:,}",
            "yes" if r.reconciles else "[red]NO[/red]",
        )
    console.print(t)
    reasons = [
        (r.table, reason, n)
        for r in report.reports.values()
        for reason, n in r.reasons.most_common(3)
    ]
    if reasons:
        console.print(
            "[bold]quarantined[/bold] (top reasons per table; all rows in table `quarantine`):"
        )
        for table, reason, n in reasons:
            console.print(f"  {table}: {n:,} x {reason}")


@app.command()
def contract() -> None:
    """Print the journey data contract: tables, columns, types, keys and references."""
    from features.contract.schema import TABLES

    for table in TABLES.values():
        t = RichTable(
            title=f"{table.name}: one row per {table.grain}; key ({', '.join(table.primary_key)})"
        )
        for col in ("column", "type", "required", "nullable", "checks", "description"):
            t.add_column(col)
        for c in table.columns:
            checks = []
            if c.allowed:
                checks.append("in " + ",".join(map(str, c.allowed)))
            if c.min is not None:
                checks.append(f">= {c.min:g}")
            if c.max is not None:
                checks.append(f"<= {c.max:g}")
            if c.references:
                checks.append(f"-> {c.references}")
            t.add_row(
                c.name,
                c.dtype,
                "yes" if c.required else "",
                "yes" if c.nullable else "",
                "; ".join(checks),
                c.description,
            )
        console.print(t)


@app.command()
def load(
    adapter: Annotated[str, typer.Argument(help="Built-in adapter (365, cdnow, dtc) or 'mapped'.")],
    path: Annotated[Path, typer.Argument(help="The dataset's file or folder.")],
    mapping: Annotated[
        str | None,
        typer.Option("--mapping", help="With 'mapped': a mapping under loaders.mappings."),
    ] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Load a dataset into the warehouse, validated; print rows read, accepted, quarantined."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from features.io.adapters import resolve_adapter
    from features.io.ingest import load_dataset
    from features.io.mapping import stage_mapping
    from features.io.warehouse import connect

    p = _params(params)
    spec, base, name = resolve_adapter(adapter, path, p, mapping=mapping)
    con = connect(p.warehouse.url)
    if con.name == "duckdb":  # ours below; DuckDB's own bar would interleave with it
        con.raw_sql("SET enable_progress_bar = false")
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        step = bar.add_task(f"reading {path} with adapter {adapter}", total=2)
        dataset = stage_mapping(con, spec, name=name, base=base)
        bar.update(step, advance=1, description="validating and writing the warehouse")
        report = load_dataset(
            con,
            dataset.staged,
            dataset=dataset.name,
            now=_now(),
            max_quarantine_share=p.validation.max_quarantine_share,
            future_skew_hours=p.validation.future_skew_hours,
        )
        bar.update(step, advance=1, description="loaded")
    sources = RichTable(title="sources")
    for col in ("source", "rows", "from"):
        sources.add_column(col, justify="right" if col == "rows" else "left")
    for s in dataset.sources.values():
        sources.add_row(s.name, f"{s.rows:,}", s.described)
    console.print(sources)
    print_load_report(report)
    console.print(f"warehouse: {p.warehouse.url}")


@app.command()
def validate(params: ParamsOpt = Path("params.yaml")) -> None:
    """Re-check the warehouse's tables against the contract; exit 1 on any violation."""
    from features.io.recheck import check_warehouse
    from features.io.warehouse import connect

    p = _params(params)
    con = connect(p.warehouse.url, must_exist=True)
    result = check_warehouse(con, now=_now() + dt.timedelta(hours=p.validation.future_skew_hours))
    quarantine = result.quarantine.to_pandas()
    t = RichTable(title="warehouse check")
    for col in ("table", "rows", "violations"):
        t.add_column(col, justify="left" if col == "table" else "right")
    for r in result.reports.values():
        bad = f"[red]{r.quarantined:,}[/red]" if r.quarantined else "0"
        t.add_row(r.table, f"{r.read:,}", bad)
    console.print(t)
    for r in result.reports.values():
        if not r.quarantined:
            continue
        console.print(f"[bold]{r.table}[/bold]: {r.quarantined:,} row(s) violate the contract")
        for reason, n in r.reasons.most_common(5):
            console.print(f"  {n:,} x {reason}")
        rows = quarantine[quarantine.table_name == r.table].head(3)
        for rec in rows.itertuples():
            console.print(f"  e.g. {rec.record}", highlight=False)
    if any(r.quarantined for r in result.reports.values()):
        raise typer.Exit(1)
    console.print("every table meets the contract")


class ReportKind(StrEnum):
    journeys = "journeys"
    kpis = "kpis"
    drift = "drift"


@app.command()
def report(
    kind: Annotated[
        ReportKind,
        typer.Argument(help="journeys (page paths), kpis (orders) or drift (scoring runs)."),
    ],
    params: ParamsOpt = Path("params.yaml"),
    out: Annotated[
        Path | None,
        typer.Option("--out", help="HTML file; default <analytics.report_dir>/<kind>.html."),
    ] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Also write the report's figures as JSON.")
    ] = None,
) -> None:
    """Write a self-contained HTML report with plots from the warehouse."""
    from rich.progress import Progress

    from features.io.warehouse import canonical_tables, connect
    from serving.reports import STEPS, build_report
    from serving.reports.html import write_page

    p = _params(params)
    name = kind.value
    steps: tuple[str, ...]
    if kind is ReportKind.drift:
        from serving.reports.drift import STEPS as DRIFT_STEPS

        steps = DRIFT_STEPS
    else:
        steps = STEPS[name]
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(f"{name} report", total=len(steps) + 1)
        done = iter(range(len(steps)))

        def tick(step: str) -> None:
            bar.update(task, completed=next(done), description=f"{name}: {step}")

        con = connect(p.warehouse.url, must_exist=True)
        if kind is ReportKind.drift:
            from serving.drift import drift_history
            from serving.reports.drift import build_drift_report

            built = build_drift_report(drift_history(con), p.serving.drift, progress=tick)
        else:
            built = build_report(name, canonical_tables(con), p, progress=tick)
        bar.update(task, completed=len(steps), description=f"{name}: rendering")
        path = write_page(
            built.to_html(generated_at=_now()),
            out or p.path(p.analytics.report_dir) / f"{name}.html",
        )
        if json_path is not None:
            json_path.parent.mkdir(parents=True, exist_ok=True)
            json_path.write_text(built.to_json(), encoding="utf-8")
        bar.update(task, completed=len(steps) + 1)
    for warning in built.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    console.print(f"wrote {path}" + (f" and {json_path}" if json_path else ""), highlight=False)


@app.command()
def simulate(
    customers: Annotated[
        int | None,
        typer.Option(min=1, help="Customers to simulate [default: simulate.customers]."),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed [default: simulate.seed].")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Simulate the apparel & intimates brand, validate it and load it into the warehouse."""
    import time

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from features.io.warehouse import connect
    from features.simulate import simulate as run_simulation
    from features.simulate.calibration import measure
    from features.simulate.load import load_simulation
    from features.simulate.simulator import STAGES

    p = _params(params)
    sim = p.simulate
    started = time.perf_counter()
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("simulate", total=len(STAGES) + 1)

        def stage(name: str) -> None:
            done = STAGES.index(name)
            progress.update(task, completed=done, description=f"simulate: {name}")

        data = run_simulation(sim, customers=customers, seed=seed, on_stage=stage)
        progress.update(task, completed=len(STAGES), description="validate + load")
        con = connect(p.warehouse.url)
        report = load_simulation(
            con, data, now=_now(), max_quarantine_share=p.validation.max_quarantine_share
        )
        progress.update(task, completed=len(STAGES) + 1)
    print_load_report(report)
    figures = measure(data.tables, start=sim.start, end=sim.end)
    t = RichTable(title=f"simulated {data.customers:,} customers, seed {data.seed}")
    t.add_column("figure")
    t.add_column("value", justify="right")
    for name, value in figures.items():
        t.add_row(name, value if isinstance(value, str) else f"{value:,.3f}")
    t.add_row("truth tables", ", ".join(f"{k} ({v.num_rows:,})" for k, v in data.truth.items()))
    t.add_row("seconds", f"{time.perf_counter() - started:,.1f}")
    console.print(t)


@app.command()
def run(params: ParamsOpt = Path("params.yaml")) -> None:
    """The main job, end to end on the embedded default warehouse.

    Simulate the brand and load it (``journey simulate``); train churn + survival, CLV
    and size (``journey train ...``); promote each challenger that beats its champion
    (``journey promote``); score every active customer as of the day the data ends and
    write predictions back (``journey score``); print the top of the risk list.
    """
    import time

    from features.io.warehouse import canonical_tables, connect
    from features.labels import observation_end

    def score_latest() -> None:
        p = _params(params)
        con = connect(p.warehouse.url)
        as_of = observation_end(canonical_tables(con))
        con.disconnect()
        score(as_of=as_of, params=params, wait=0.0)

    steps = [
        (
            "simulate -> validate -> load",
            lambda: simulate(customers=None, seed=None, params=params),
        ),
        ("train churn + survival", lambda: train_churn_command(params=params)),
        ("train clv", lambda: train_clv_command(params=params)),
        ("train size", lambda: train_size(params=params)),
        *(
            (f"promote {name}", lambda name=name: promote(name=name, params=params))
            for name in ("churn", "churn_survival", "clv", "size")
        ),
        ("score -> write back -> risk list", score_latest),
    ]
    started = time.perf_counter()
    for i, (title, step) in enumerate(steps, 1):
        console.rule(f"[bold]{i}/{len(steps)} {title}")
        t0 = time.perf_counter()
        step()
        console.print(f"[dim]{title}: {time.perf_counter() - t0:,.1f} s[/dim]", highlight=False)
    console.print(
        f"[bold green]done[/bold green] in {time.perf_counter() - started:,.0f} s; "
        f"warehouse: {_params(params).warehouse.url}",
        highlight=False,
    )


@app.command()
def features(
    as_of: Annotated[
        dt.datetime,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d"],
            help="Snapshot date: features use events before its midnight (UTC).",
        ),
    ],
    params: ParamsOpt = Path("params.yaml"),
    engine: EngineOpt = Engine.duckdb,
    source: SourceOpt = None,
) -> None:
    """Build customer features as of a date into the warehouse table `features`.

    Rows are keyed by (customer_id, as_of); re-running a date replaces its rows in one
    transaction. Prints rows, columns, null shares and a few distributions. With
    `--engine spark`: from the Parquet folder `spark.source` into Parquet under
    `spark.features`, partitioned by as_of (re-running a date replaces its partition).
    """
    from features.io.warehouse import connect
    from features.store import summarize_features, write_features

    p = _params(params)
    day = as_of.date()
    if engine is Engine.spark:
        _features_spark(p, day, source)
        return
    con = connect(p.warehouse.url, must_exist=True)
    with console.status(f"building features as of {day:%Y-%m-%d} ..."):
        rows = write_features(con, day, params=p)
        summary = summarize_features(con, day)
    print_feature_summary(summary)
    console.print(f"wrote {rows:,} rows to warehouse table `features` (as_of = {day:%Y-%m-%d})")


@train_app.command("clv")
def train_clv_command(params: ParamsOpt = Path("params.yaml")) -> None:
    """Train the CLV model on the out-of-time split, log it to MLflow, register `clv`.

    Revenue over `labels.horizon_days`; cutoffs from `training`; registered as
    `clv@challenger` only if the gates in `registry.gates.clv` pass.
    """
    from features.io.warehouse import connect
    from training.train_clv import train_clv

    p = _params(params)
    with console.status("training clv (features per cutoff, BG/NBD + GG, LightGBM) ..."):
        result = train_clv(connect(p.warehouse.url, must_exist=True), p)
    print_train_result(result)


def print_feature_summary(summary) -> None:
    """Rows, columns, the features most often null, headline distributions, categories."""
    console.print(
        f"[bold]features as of {summary.as_of:%Y-%m-%d}[/bold]: "
        f"{summary.rows:,} customers x {summary.columns} features"
    )
    nulls = summary.null_shares[summary.null_shares > 0]
    t = RichTable(title=f"null shares ({len(nulls)} of {summary.columns} features have nulls)")
    t.add_column("feature")
    t.add_column("null share", justify="right")
    for name, share in nulls.head(10).items():
        t.add_row(name, f"{share:.1%}")
    console.print(t)
    d = RichTable(title="distributions")
    for col in ("feature", "mean", "p10", "p50", "p90"):
        d.add_column(col, justify="left" if col == "feature" else "right")
    for name, row in summary.distributions.iterrows():
        d.add_row(name, *(f"{row[c]:,.2f}" for c in ("mean", "p10", "p50", "p90")))
    console.print(d)
    for name, shares in summary.categories.items():
        top = ", ".join(f"{value} {share:.0%}" for value, share in shares.items())
        console.print(f"  {name}: {top}")


@train_app.command("size")
def train_size(params: ParamsOpt = Path("params.yaml")) -> None:
    """Train the size recommender: out-of-time evaluation, MLflow run, `size@challenger`.

    Prints the run id, the test-window metrics against the 1-LV baseline and whether the
    gates (`registry.gates.size`) let it register.
    """
    from features.io.warehouse import connect
    from training.train_size import train_size as run_training

    p = _params(params)
    con = connect(p.warehouse.url, must_exist=True)
    with console.status("training the size recommender (fit, 1-LV baseline, refit) ..."):
        result = run_training(con, p)
    print_train_result(result)


@app.command("recommend-size")
def recommend_size(
    customer: Annotated[str, typer.Option("--customer", help="Customer id.")],
    product: Annotated[
        str | None, typer.Option("--product", help="Product id (or give --category).")
    ] = None,
    category: Annotated[
        str | None, typer.Option("--category", help="Category, e.g. bra (or give --product).")
    ] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Recommend a size for one customer and product from `models:/size@champion`.

    Falls back to `size@challenger`, saying so, while no champion exists.
    """
    from serving.size import load_size_model
    from serving.size import recommend_size as recommend

    p = _params(params)
    loaded = load_size_model(p.mlflow.tracking_uri)
    if loaded.note:
        console.print(f"[yellow]note:[/yellow] {loaded.note}", highlight=False)
    row = recommend(loaded, customer, product_id=product, category=category)
    t = RichTable(title=f"size for customer {customer} ({loaded.uri}, v{loaded.version})")
    t.add_column("field")
    t.add_column("value")
    for name, value in row.items():
        t.add_row(str(name), f"{value:.3f}" if isinstance(value, float) else str(value))
    console.print(t)


AsOfOpt = Annotated[
    dt.datetime | None,
    typer.Option(
        "--as-of",
        formats=["%Y-%m-%d"],
        help="Score date: features use events before its midnight (UTC) [default: yesterday].",
    ),
]
WaitOpt = Annotated[
    float,
    typer.Option(
        "--wait", min=0, help="Seconds to wait for another scoring run's lock (0: exit at once)."
    ),
]


def print_score_result(result, files=None) -> None:
    """One run's rows, models, stage timings and warnings, and the top of the risk list."""
    run = result.run
    console.print(
        f"[bold]scored {run.as_of:%Y-%m-%d}[/bold]: {run.rows_scored:,} active of "
        f"{run.rows_in:,} customers -> {run.rows_out:,} rows in {result.target} (run {run.run_id})",
        highlight=False,
    )
    console.print(
        "models: " + ", ".join(f"{k} {v}" for k, v in run.models.items()), highlight=False
    )
    console.print(
        "stages (s): " + ", ".join(f"{k} {v:.2f}" for k, v in run.stage_seconds.items()),
        highlight=False,
    )
    for w in run.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}", highlight=False)
    if files is None:
        return
    import pandas as pd

    top = pd.read_csv(files.csv, nrows=10, dtype={"customer_id": str})
    t = RichTable(title=f"top of the risk list ({files.rows:,} customers)")
    for col in (
        "rank",
        "customer_id",
        "risk_tier",
        "p_churn",
        "value_at_risk",
        "reason_1",
        "recommended_action",
    ):
        t.add_column(
            col.replace("_", " "),
            justify="right" if col in ("rank", "p_churn", "value_at_risk") else "left",
        )
    for r in top.itertuples(index=False):
        t.add_row(
            str(r.rank),
            str(r.customer_id),
            str(r.risk_tier),
            f"{r.p_churn:.1%}",
            "" if pd.isna(r.value_at_risk) else f"{r.value_at_risk:,.0f}",
            "" if pd.isna(r.reason_1) else str(r.reason_1),
            str(r.recommended_action),
        )
    console.print(t)
    console.print(f"risk list: {files.csv}\n           {files.html}", highlight=False)


def _score_one(con, day, p, *, write_list: bool = True):
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from serving.risk_list import write_risk_list
    from serving.score import STAGES, score_date
    from serving.writeback import open_target

    target = open_target(p.serving.writeback_url, warehouse_url=p.warehouse.url, warehouse=con)
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(f"score {day:%Y-%m-%d}", total=len(STAGES) + 1)

        def tick(stage: str) -> None:
            bar.update(task, completed=STAGES.index(stage), description=f"{day:%Y-%m-%d}: {stage}")

        result = score_date(con, day, params=p, target=target, progress=tick)
        files = None
        if write_list:
            bar.update(task, completed=len(STAGES), description=f"{day:%Y-%m-%d}: risk list")
            files = write_risk_list(con, target, day, params=p, generated_at=_now())
    return result, files


@app.command()
def score(
    as_of: AsOfOpt = None,
    params: ParamsOpt = Path("params.yaml"),
    wait: WaitOpt = 0.0,
    engine: EngineOpt = Engine.duckdb,
    source: SourceOpt = None,
) -> None:
    """Score every active customer as of a date and write predictions and the risk list.

    Loads models:/<name>@champion for churn, churn_survival, clv and size, replaces that
    date's rows in `predictions` in one transaction, records the run in `scoring_runs`
    and drift in `drift`, then writes the risk list (CSV and HTML). With `--engine
    spark`: features from the Parquet folder `spark.source`, each champion through
    mlflow's spark_udf, predictions as Parquet under `spark.predictions` partitioned by
    as_of (re-running a date replaces its partition), the risk list from the top
    `spark.risk_list_rows` (no manifest or drift: those live in the warehouse).
    """
    from features.io.warehouse import connect
    from serving.lock import scoring_lock
    from serving.score import default_as_of

    p = _params(params)
    day = as_of.date() if as_of else default_as_of()
    if engine is Engine.spark:
        with scoring_lock(p.path(p.serving.lock_path), wait_seconds=wait):
            _score_spark(p, day, source)
        return
    con = connect(p.warehouse.url, must_exist=True)
    with scoring_lock(p.path(p.serving.lock_path), wait_seconds=wait):
        result, files = _score_one(con, day, p)
    print_score_result(result, files)
    if result.run.drift_flagged and p.serving.drift.fail_on_drift:
        console.print("[red]drift flagged[/red] (serving.drift.fail_on_drift): exit 1")
        raise typer.Exit(1)


@app.command()
def nightly(
    until: Annotated[
        dt.datetime | None,
        typer.Option(
            "--until", formats=["%Y-%m-%d"], help="Last date to score [default: yesterday]."
        ),
    ] = None,
    params: ParamsOpt = Path("params.yaml"),
    wait: WaitOpt = 0.0,
) -> None:
    """Score every date missed since the last successful run, in order (cron-safe).

    Holds a file lock for the whole catch-up: a second run exits with a message (or waits
    with --wait). Stops at the first failing date; the next run resumes there.
    """
    from features.io.warehouse import connect
    from serving.nightly import run_nightly

    p = _params(params)
    con = connect(p.warehouse.url, must_exist=True)

    def plan(result) -> None:
        if result.abandoned:
            console.print(f"marked {len(result.abandoned)} interrupted run(s) failed")
        if not result.dates:
            console.print("nothing to score: every date up to the last is scored")
            return
        first, last = result.dates[0], result.dates[-1]
        console.print(f"scoring {len(result.dates)} date(s): {first:%Y-%m-%d} .. {last:%Y-%m-%d}")

    def one(day: dt.date, is_last: bool):
        console.rule(f"{day:%Y-%m-%d}")
        result, files = _score_one(con, day, p, write_list=is_last)
        print_score_result(result, files)
        return result

    done = run_nightly(
        con,
        params=p,
        until=until.date() if until else None,
        wait_seconds=wait,
        score=one,
        on_plan=plan,
    )
    if any(r.run.drift_flagged for r in done.results) and p.serving.drift.fail_on_drift:
        console.print("[red]drift flagged[/red] (serving.drift.fail_on_drift): exit 1")
        raise typer.Exit(1)


def print_train_result(result, *, keys: tuple[str, ...] = ()) -> None:
    """The run id, the chosen metrics (all when ``keys`` is empty) and the registration."""
    t = RichTable(title=f"{result.name}: run {result.run_id}")
    t.add_column("metric")
    t.add_column("value", justify="right")
    for k, v in result.metrics.items():
        if not keys or k in keys:
            t.add_row(k, f"{v:,.4f}")
    console.print(t)
    for name, version in result.versions.items():
        verdict = (
            f"[green]registered {name} v{version} as @challenger[/green]"
            if version
            else f"[yellow]{name} not registered: the gates in params.yaml refused it[/yellow]"
        )
        console.print(verdict)
    console.print(result.summary(), highlight=False)


CHURN_HEADLINE = (
    "oracle_roc_auc",
    "roc_auc",
    "baseline_roc_auc",
    "roc_auc_vs_baseline",
    "pr_auc",
    "brier",
    "baseline_brier",
    "log_loss",
    "lift_top5pct",
    "lift_top10pct",
    "capture_top10pct",
    "expected_profit_top5pct",
    "expected_profit_top10pct",
    "survival_concordance",
    "survival_integrated_brier",
    "survival_auc_30d",
    "survival_auc_60d",
    "survival_auc_90d",
    "n_train_rows",
    "n_test_rows",
)


@train_app.command("churn")
def train_churn_command(params: ParamsOpt = Path("params.yaml")) -> None:
    """Churn classifier + survival model: out-of-time split, MLflow run, gated registration
    of `churn` and `churn_survival` as @challenger."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from features.io.warehouse import connect
    from training.train_churn import STEPS, train_churn

    p = _params(params)
    con = connect(p.warehouse.url, must_exist=True)
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("train churn", total=len(STEPS))

        def step(name: str) -> None:
            progress.update(task, completed=STEPS.index(name), description=f"churn: {name}")

        result = train_churn(con, p, on_step=step)
        progress.update(task, completed=len(STEPS))
    print_train_result(result, keys=CHURN_HEADLINE)


@app.command()
def promote(
    name: Annotated[str, typer.Argument(help="Registered model name, e.g. churn.")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Move @champion to @challenger if it beats the champion on the same test window."""
    from features.io.warehouse import connect
    from training.promote import evaluator_for, promote_model

    p = _params(params)
    evaluator_for(name)  # an unknown name fails before the warehouse is opened
    con = connect(p.warehouse.url, must_exist=True)
    with console.status(f"scoring {name}@challenger and {name}@champion on the test window"):
        decision = promote_model(name, con, p)
    colour = "green" if decision.promoted else "yellow"
    console.print(f"[{colour}]{decision.describe()}[/{colour}]", highlight=False)


@tune_app.command("churn")
def tune_churn_command(
    trials: Annotated[
        int | None, typer.Option("--trials", min=1, help="Trials [default: churn.tune.n_trials].")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", min=1, help="Stop after this many seconds.")
    ] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Optuna (seeded TPE, median pruning) over the churn booster; best params printed and
    logged as best_params.yaml on the parent MLflow run."""
    import yaml
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from features.io.warehouse import connect
    from training.tune import tune_churn

    p = _params(params)
    n = trials or p.churn.tune.n_trials
    con = connect(p.warehouse.url, must_exist=True)
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("tune churn: building fold snapshots", total=n)
        best: list[float] = []

        def on_trial(trial) -> None:
            if trial.value is not None and trial.state.name == "COMPLETE":
                best.append(trial.value)
            progress.update(
                task,
                advance=1,
                description=f"tune churn: trial {trial.number} {trial.state.name.lower()}",
            )

        result = tune_churn(con, p, n_trials=n, timeout_seconds=timeout, on_trial=on_trial)
    console.print(result.summary(), highlight=False)
    console.print("[bold]best params[/bold] (paste under churn.classifier in params.yaml):")
    console.print(yaml.safe_dump(result.best_params, sort_keys=False), highlight=False)


def _spark(p):
    """The Spark session and its Ibis backend, started with a spinner (the JVM takes seconds)."""
    from features.io.spark import connect, spark_session

    with console.status(f"starting Spark ({p.spark.master}) ..."):
        return connect(spark_session(p))


@app.command("export-parquet")
def export_parquet(
    to: Annotated[
        Path | None,
        typer.Option("--to", help="Folder for the Parquet tables [default: spark.source]."),
    ] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Write the warehouse's canonical tables to a Parquet folder, one sub-folder per table.

    What `--engine spark` reads; each table's folder is replaced whole.
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from features.contract.schema import TABLES
    from features.io.parquet import export_parquet as export
    from features.io.warehouse import connect

    p = _params(params)
    folder = to or p.path(p.spark.source)
    con = connect(p.warehouse.url, must_exist=True)
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("export", total=len(TABLES))

        def step(name: str) -> None:
            bar.update(task, completed=list(TABLES).index(name), description=f"export {name}")

        rows = export(con, folder, on_table=step)
    t = RichTable(title="canonical tables")
    t.add_column("table")
    t.add_column("rows", justify="right")
    for name, n in rows.items():
        t.add_row(name, f"{n:,}")
    console.print(t)
    console.print(f"wrote {len(rows)} tables to {folder}", highlight=False)


def _features_spark(p, day: dt.date, source: str | None) -> None:
    from features.io.spark import canonical_tables, read_partitions, spark_path, write_features
    from features.store import FEATURES_TABLE, summarize_features

    con = _spark(p)
    src = source or spark_path(p, p.spark.source)
    out = spark_path(p, p.spark.features)
    with console.status(f"building features as of {day:%Y-%m-%d} on Spark from {src} ..."):
        rows = write_features(con, canonical_tables(con, src), day, params=p, path=out)
        read_partitions(con, out, FEATURES_TABLE)
        summary = summarize_features(con, day)
    print_feature_summary(summary)
    console.print(f"wrote {rows:,} rows to {out}/as_of={day:%Y-%m-%d}", highlight=False)


def _score_spark(p, day: dt.date, source: str | None) -> None:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from features.io.spark import canonical_tables, spark_path
    from serving.spark_score import STAGES, score_date_spark, write_risk_list_spark

    con = _spark(p)
    tables = canonical_tables(con, source or spark_path(p, p.spark.source))
    out = spark_path(p, p.spark.predictions)
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(f"score {day:%Y-%m-%d} on Spark", total=len(STAGES) + 1)

        def tick(stage: str) -> None:
            bar.update(task, completed=STAGES.index(stage), description=f"{day:%Y-%m-%d}: {stage}")

        result = score_date_spark(con, tables, day, params=p, path=out, progress=tick)
        bar.update(task, completed=len(STAGES), description=f"{day:%Y-%m-%d}: risk list")
        files = write_risk_list_spark(con, tables, out, day, params=p, generated_at=_now())
    print_score_result(result, files)
    if files.rows < result.rows_out:
        console.print(
            f"the risk list holds the top {files.rows:,} of {result.rows_out:,} by value at "
            "risk (spark.risk_list_rows)",
            highlight=False,
        )


def main() -> None:
    """Entry point: run the app and print actionable errors without a traceback."""
    try:
        app()
    except JourneyError as err:
        console.print(f"[bold red]error:[/bold red] {err}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
