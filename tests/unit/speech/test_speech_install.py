"""`hotline speech install-model` against a zip served over real HTTP, and `status`."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import threading
import zipfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hotline.app.cli import app
from hotline.app.health import check_all, overall_ok
from hotline.config.settings import Settings
from hotline.speech import install
from hotline.speech.errors import InstallError
from hotline.speech.model import speech_problem

FILES = {
    "am/final.mdl": b"acoustic model",
    "conf/mfcc.conf": b"--sample-frequency=16000\n",
    "conf/model.conf": b"--min-active=200\n",
    "graph/Gr.fst": b"grammar",
    "graph/HCLr.fst": b"lexicon",
    "ivector/final.ie": b"ivector extractor",
}
HASHED = ("am/final.mdl", "graph/Gr.fst", "graph/HCLr.fst", "ivector/final.ie")


def make_zip(path: Path, files: dict[str, bytes], top: str = "vosk-model-small-cn-0.22") -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(f"{top}/{name}", data)
    return path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A directory served on a loopback HTTP port: (directory, base URL)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The hash table pointed at FILES (the real one names the real model's files)."""
    table = {name: hashlib.sha256(FILES[name]).hexdigest() for name in HASHED}
    monkeypatch.setattr(install, "MODEL_SHA256", table)
    return table


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cfg = tmp_path / "hotline.yaml"
    cfg.write_text(f"var_dir: {tmp_path / 'var'}\n")
    monkeypatch.setenv("HOTLINE_CONFIG_FILE", str(cfg))
    return tmp_path / "var" / "speech" / "model"


def test_the_table_holds_the_published_hashes_of_the_mandarin_model() -> None:
    assert set(install.MODEL_SHA256) == set(HASHED)
    assert install.MODEL_SHA256["am/final.mdl"] == (
        "91eda2c04c4f599361cb92b0e5298ccdf6b3c7a1fa52bfcefcd2c4e07aa1c131"
    )
    assert Settings().speech.model_url.endswith("/vosk-model-small-cn-0.22.zip")


def test_install_downloads_verifies_and_moves_into_place(
    served: tuple[Path, str], published: dict[str, str], config: Path
) -> None:
    www, base = served
    make_zip(www / "model.zip", FILES)
    result = CliRunner().invoke(app, ["speech", "install-model", "--url", f"{base}/model.zip"])
    assert result.exit_code == 0, result.output
    assert (config / "graph/HCLr.fst").read_bytes() == b"lexicon"
    assert (config / ".name").read_text().strip() == "vosk-model-small-cn-0.22"
    assert speech_problem(Settings(var_dir=config.parents[1])) is None
    assert [p.name for p in config.parent.iterdir()] == ["model"]  # no temporary left


def test_a_wrong_sha256_is_refused_and_nothing_is_left(
    served: tuple[Path, str], published: dict[str, str], config: Path, tmp_path: Path
) -> None:
    www, base = served
    make_zip(www / "model.zip", {**FILES, "graph/Gr.fst": b"tampered grammar"})
    target = tmp_path / "elsewhere" / "model"
    result = CliRunner().invoke(
        app, ["speech", "install-model", "--url", f"{base}/model.zip", "--dir", str(target)]
    )
    assert result.exit_code == 1
    assert "graph/Gr.fst: SHA-256" in result.output and published["graph/Gr.fst"] in result.output
    assert "nothing installed" in result.output
    assert list(target.parent.iterdir()) == []


def test_a_failed_install_keeps_the_model_already_there(
    served: tuple[Path, str], published: dict[str, str], tmp_path: Path
) -> None:
    www, base = served
    make_zip(www / "good.zip", FILES)
    make_zip(www / "bad.zip", {k: v for k, v in FILES.items() if k != "ivector/final.ie"})
    target = tmp_path / "model"
    install.install_model(f"{base}/good.zip", target)
    with pytest.raises(InstallError, match=r"no ivector/final\.ie"):
        install.install_model(f"{base}/bad.zip", target)
    with pytest.raises(InstallError, match="HTTP 404"):
        install.install_model(f"{base}/missing.zip", target)
    assert (target / "ivector/final.ie").read_bytes() == b"ivector extractor"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "www"]


def test_a_zip_escaping_its_directory_is_refused(
    served: tuple[Path, str], published: dict[str, str], tmp_path: Path
) -> None:
    www, base = served
    with zipfile.ZipFile(www / "evil.zip", "w") as zf:
        zf.writestr("../../evil.txt", b"x")
    with pytest.raises(InstallError, match="unsafe path"):
        install.install_model(f"{base}/evil.zip", tmp_path / "model")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "model").exists()


def test_without_a_model_speech_is_off_and_status_says_why(config: Path, tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var")
    why = speech_problem(settings)
    assert why is not None and str(config) in why and "install-model" in why
    result = CliRunner().invoke(app, ["speech", "status"])
    assert result.exit_code == 1
    assert f"speech off: no speech model at {config}" in result.output
    report = asyncio.run(check_all(settings))
    speech = report["components"]["speech_model"]
    assert speech == {"ok": False, "optional": True, "detail": why}
    # an optional component down does not make the hotline down; a required one does
    assert overall_ok({"database": {"ok": True}, "speech_model": speech})
    assert not overall_ok({"database": {"ok": False}, "speech_model": speech})


def test_an_incomplete_model_names_what_is_missing(config: Path) -> None:
    for name, data in FILES.items():
        if name != "conf/mfcc.conf":
            (config / name).parent.mkdir(parents=True, exist_ok=True)
            (config / name).write_bytes(data)
    result = CliRunner().invoke(app, ["speech", "status"])
    assert result.exit_code == 1
    assert "incomplete: missing conf/mfcc.conf" in result.output
