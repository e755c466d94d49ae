"""`hotline speech check-phrases`: the phrase lists against the installed speech model."""

from __future__ import annotations

import typer

from config.settings import ConfigError
from hotline.cli_settings import settings_or_exit

app = typer.Typer(help="Speech recognition (Vosk, offline).", no_args_is_help=True)


@app.command("check-phrases")
def check_phrases_cmd() -> None:
    """Every menu phrase and emergency keyword must be words of the installed model;
    exit 1 naming each one that is not (or when no model is installed)."""
    from agi.menu import menu_file
    from agi.tree import load_ivr
    from speech.model import problem, shared_model
    from speech.phrases import check_phrases, phrase_lists

    settings = settings_or_exit()
    try:
        ivr = load_ivr(menu_file(), settings.queue_names())
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    why = problem(settings.speech_model_dir)
    if why is not None:
        typer.echo(f"cannot check the phrases: {why}", err=True)
        raise typer.Exit(1)
    lists = list(phrase_lists(ivr, settings))
    problems = check_phrases(shared_model(settings.speech_model_dir), lists)
    for p in problems:
        typer.echo(p, err=True)
    count = sum(len(pl.phrases) for pl in lists)
    typer.echo(f"{count - len(problems)} of {count} phrases are in the model's vocabulary")
    raise typer.Exit(1 if problems else 0)
