"""`hotline speech install-model`: download the Mandarin Vosk model, check it, put it in place.

Atomic: the zip is downloaded and unpacked in a temporary directory next to the model
directory, every large file's SHA-256 is checked against MODEL_SHA256, and only then is
the directory renamed into place. A wrong hash or a broken download leaves nothing behind
(and an installed model untouched).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

import httpx

from hotline.speech.errors import InstallError
from hotline.speech.model import problem

MODEL_NAME = "vosk-model-small-cn-0.22"
# The large files of vosk-model-small-cn-0.22 as published by alphacephei.com.
MODEL_SHA256 = {
    "am/final.mdl": "91eda2c04c4f599361cb92b0e5298ccdf6b3c7a1fa52bfcefcd2c4e07aa1c131",
    "graph/Gr.fst": "46d41a9b1723abccdcb354d731a5b58d87c060100d88ada1a3e31220f52b0434",
    "graph/HCLr.fst": "798af0d9ba6f2d727747f58e1e7b2305f8618bc8ea7f6c51beecd8a2c965b965",
    "ivector/final.ie": "c39d46fbff04efb7baa9660ae7a728b0e2f35a4a1250b56ed3a599e26956df86",
}
NAME_FILE = ".name"  # in the installed model: its published name (shown on transcripts)
DOWNLOAD_TIMEOUT = httpx.Timeout(30.0, read=120.0)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download(url: str, dest: Path) -> None:
    try:
        with httpx.stream("GET", url, timeout=DOWNLOAD_TIMEOUT, follow_redirects=True) as r:
            if r.status_code != 200:
                raise InstallError(f"download of {url} failed: HTTP {r.status_code}")
            with dest.open("wb") as fh:
                for chunk in r.iter_bytes(1 << 20):
                    fh.write(chunk)
    except httpx.HTTPError as exc:
        raise InstallError(f"download of {url} failed: {exc}") from exc


def unpack(archive: Path, dest: Path) -> Path:
    """Unzip into dest; the model is the zip's one top directory (or dest itself)."""
    try:
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                parts = PurePosixPath(name).parts
                if name.startswith("/") or ".." in parts:
                    raise InstallError(f"{archive}: unsafe path {name!r} in the zip")
            zf.extractall(dest)
    except zipfile.BadZipFile as exc:
        raise InstallError(f"{archive}: not a zip file ({exc})") from exc
    entries = [p for p in dest.iterdir() if not p.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir() and not (dest / "am").is_dir():
        return entries[0]
    return dest


def verify(model: Path, expected: dict[str, str]) -> None:
    for rel, want in expected.items():
        path = model / rel
        if not path.is_file():
            raise InstallError(f"the downloaded model has no {rel}")
        got = sha256_of(path)
        if got != want:
            raise InstallError(f"{rel}: SHA-256 {got} is not the published {want}")
    if (why := problem(model)) is not None:
        raise InstallError(why)


def install_model(
    url: str, target: Path, expected: dict[str, str] | None = None, name: str = MODEL_NAME
) -> Path:
    """Download the zip at url, check it, and make it the model at target."""
    expected = MODEL_SHA256 if expected is None else expected
    target = target.absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(target)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}-") as tmp:
        work = Path(tmp)
        archive = work / "model.zip"
        download(url, archive)
        model = unpack(archive, work / "unpacked")
        archive.unlink()
        verify(model, expected)
        (model / NAME_FILE).write_text(name + "\n", encoding="utf-8")
        if target.exists():
            target.rename(work / "previous")  # removed with the temporary directory
        model.rename(target)
    return target


def remove_leftovers(target: Path) -> None:
    """Temporary directories of an install that was killed half-way."""
    for stale in target.parent.glob(f".{target.name}-*"):
        shutil.rmtree(stale, ignore_errors=True)
