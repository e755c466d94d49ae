"""Prompts are data: texts in hotline/config/prompts.yaml, spoken at set-up by espeak-ng.

A file that is not ours (a recorded prompt) is never overwritten: we keep a
hash of what we generated beside each file and regenerate only our own.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

from hotline.asterisk.settings import AsteriskConfig
from hotline.kernel.errors import ConfigError
from hotline.kernel.settings import CONFIG_DIR

PROMPTS_FILE = CONFIG_DIR / "prompts.yaml"
SOUNDS_REL = "usr/share/asterisk/sounds/hotline"
MOH_REL = "usr/share/asterisk/moh-hotline"


def load_texts(settings: AsteriskConfig, path: Path = PROMPTS_FILE) -> dict[str, str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected 'name: text' lines")
    out = {}
    for name, text in data.items():
        if not isinstance(text, str) or not str(name).replace("-", "").isalnum():
            raise ConfigError(f"{path}: {name}: a prompt is a name (letters, digits, -) and text")
        out[str(name)] = text.format(city_name=settings.city_name)
    return out


def _speak(text: str, out: Path) -> None:
    for tool in ("espeak-ng", "sox"):
        if not shutil.which(tool):
            raise RuntimeError(f"{tool} is missing: run `apt-get install -y espeak-ng sox`")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(["espeak-ng", "-v", "cmn", "-s", "210", "-w", str(raw), text], check=True)
        subprocess.run(
            ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(out), "norm", "-3"],
            check=True,
        )


# Asterisk's own Mandarin number reading (say.c, language zh: 十二 = digits/10 + digits/2),
# used by app_queue for the caller's position and wait; sounds/zh/digits/<name>.
ZH_DIGITS_REL = "usr/share/asterisk/sounds/zh/digits"
ZH_DIGITS = {
    **{str(i): t for i, t in enumerate("零一二三四五六七八九")},
    "10": "十",
    **{str(i * 10): f"{t}十" for i, t in enumerate("二三四五六七八九", start=2)},
    "hundred": "百",
    "thousand": "千",
    "wan": "万",
    "yi": "亿",
}


def generate(settings: AsteriskConfig, *, force: bool = False) -> list[Path]:
    """Speak every prompt that is missing or whose text changed; return those written."""
    sounds = settings.root / SOUNDS_REL
    digits = settings.root / ZH_DIGITS_REL
    written = []
    texts = [(sounds, name, text) for name, text in load_texts(settings).items()]
    texts += [(digits, name, text) for name, text in ZH_DIGITS.items()]
    for folder, name, text in texts:
        folder.mkdir(parents=True, exist_ok=True)
        wav = folder / f"{name}.wav"
        stamp = folder / f".{name}.generated"
        digest = hashlib.sha256(text.encode()).hexdigest()
        ours = stamp.exists()
        if wav.exists() and not ours:
            continue  # a recorded prompt: leave it alone
        if wav.exists() and ours and stamp.read_text() == digest and not force:
            continue
        _speak(text, wav)
        stamp.write_text(digest)
        written.append(wav)
    moh = settings.root / MOH_REL
    moh.mkdir(parents=True, exist_ok=True)
    hold = moh / "hotline-hold.wav"
    if not hold.exists():
        tone(hold, 1.5, ("523", "659"), volume=0.08, repeat=9)
        written.append(hold)
    return written


def tone(
    out: Path,
    seconds: float,
    freqs: tuple[str, ...] = ("660",),
    *,
    volume: float = 0.2,
    repeat: int = 0,
) -> None:
    """An 8 kHz mono tone (hold music, benchmark prompts); with repeat, a gap after each."""
    synth = [a for f in freqs for a in ("sine", f)]
    effects = ["vol", str(volume)]
    if repeat:
        effects += ["pad", "0", str(seconds), "repeat", str(repeat)]
    subprocess.run(
        [
            "sox",
            "-n",
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            str(out),
            "synth",
            str(seconds),
            *synth,
            *effects,
        ],
        check=True,
    )
