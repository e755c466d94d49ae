"""`hotline speech …`: install the model, whether speech is on, transcribe, check phrases."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hotline.app.cli_settings import settings_or_exit
from hotline.kernel.errors import ConfigError

app = typer.Typer(
    help="Speech recognition: the Vosk model, its status, transcription.", no_args_is_help=True
)


@app.command("install-model")
def install_model(
    url: Annotated[
        str | None, typer.Option(help="where to download the zip (default speech.model_url)")
    ] = None,
    model_dir: Annotated[
        Path | None, typer.Option("--dir", help="where to install (default speech.model_dir)")
    ] = None,
) -> None:
    """Download vosk-model-small-cn-0.22, check every large file's SHA-256, install it."""
    from hotline.speech.errors import InstallError
    from hotline.speech.install import install_model as install

    settings = settings_or_exit()
    source = url or settings.speech.model_url
    target = model_dir or settings.speech_model_dir
    typer.echo(f"downloading {source}")
    try:
        installed = install(source, target)
    except (InstallError, OSError) as exc:
        typer.echo(f"install-model failed, nothing installed: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"speech model installed in {installed} (SHA-256 checked)")


@app.command()
def status() -> None:
    """Whether speech features are on, and why not; exit 1 when off."""
    from hotline.speech.model import speech_problem

    settings = settings_or_exit()
    why = speech_problem(settings)
    if why:
        typer.echo(f"speech off: {why}")
        raise typer.Exit(1)
    cfg = settings.speech
    typer.echo(
        f"speech on: model {settings.speech_model_dir} (language {cfg.language}); "
        f"transcribing messages {'on' if cfg.transcribe_messages else 'off'}, "
        f"call recordings {'on' if cfg.transcribe_recordings else 'off'}"
    )


@app.command()
def transcribe(
    file: Annotated[Path, typer.Argument(help="an audio file (WAV, GSM, MP3, Opus…)")],
) -> None:
    """Print the text of one audio file (free-form recognition, as for messages)."""
    from hotline.speech.errors import TranscribeError
    from hotline.speech.model import speech_problem
    from hotline.speech.transcribe import recognise

    settings = settings_or_exit()
    if not file.is_file():
        typer.echo(f"{file}: no such file", err=True)
        raise typer.Exit(2)
    if why := speech_problem(settings):
        typer.echo(f"speech off: {why}", err=True)
        raise typer.Exit(1)
    try:
        heard = recognise(settings.speech_model_dir, file, settings.speech.language)
    except TranscribeError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    conf = "-" if heard.confidence is None else f"{heard.confidence:.2f}"
    typer.echo(heard.text)
    typer.echo(f"({heard.seconds:.1f} s of audio, confidence {conf})", err=True)


@app.command("check-phrases")
def check_phrases_cmd() -> None:
    """Every menu phrase and emergency keyword must be words of the installed model;
    exit 1 naming each one that is not (or when no model is installed)."""
    from hotline.agi.menu import menu_file
    from hotline.agi.phrases import check_phrases, phrase_lists
    from hotline.agi.tree import load_ivr
    from hotline.speech.model import problem, shared_model

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
