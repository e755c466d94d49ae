"""`hotline bench all|run|report`: the benchmarks of the checkout's bench/."""

from __future__ import annotations

import importlib
import sys
from typing import Annotated, Any

import typer

from hotline.app.cli_settings import fail

app = typer.Typer(
    help="Benchmarks: our engine against a dialplan-only reference.", no_args_is_help=True
)


def _bench() -> Any:
    """bench/run.py of the checkout: the benchmarks are not installed with the package."""
    from hotline.kernel.settings import PROJECT_ROOT

    if not (PROJECT_ROOT / "bench" / "run.py").is_file():
        raise fail(f"no bench/ in {PROJECT_ROOT}: the benchmarks run from a checkout")
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    return importlib.import_module("bench.run")


@app.command("all")
def bench_all() -> None:
    """Run every benchmark (about an hour); write bench/results/ (stop your hotline first)."""
    bench = _bench()
    bench.run(list(bench.BENCHMARKS))


@app.command("run")
def bench_run(
    names: Annotated[
        list[str],
        typer.Argument(
            help="fastagi ami capacity setup classic recording routing simulation held "
            "speech cli_start, or soak (an hour; not part of `bench all`)"
        ),
    ],
    minutes: Annotated[
        float | None,
        typer.Option(min=1, help="The soak's length in minutes (default 60)."),
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            help="The soak's calls per second (default: half the top rate of the soak's own "
            "call, found first by 2-minute trials).",
        ),
    ] = None,
) -> None:
    """Run some benchmarks; the table keeps the others' last figures."""
    bench = _bench()
    soak = {k: v for k, v in (("minutes", minutes), ("rate", rate)) if v is not None}
    try:
        bench.run(names, soak or None)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


@app.command("report")
def bench_report() -> None:
    """Rewrite bench/results/results.md and the plots from results.json."""
    bench = _bench()
    typer.echo(bench.write_report(bench._load()).read_text())
