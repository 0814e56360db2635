"""The ``journey`` command line: the one module that wires every package together.

Commands import their work lazily, so ``journey --help`` stays fast and a command only
pays for the libraries it uses. Errors a user can act on print without a traceback.
"""

from __future__ import annotations

import datetime as dt
import sys
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

ParamsOpt = Annotated[
    Path,
    typer.Option("--params", help="Params file; relative paths in it resolve against its folder."),
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


def main() -> None:
    """Entry point: run the app and print actionable errors without a traceback."""
    try:
        app()
    except JourneyError as err:
        console.print(f"[bold red]error:[/bold red] {err}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
