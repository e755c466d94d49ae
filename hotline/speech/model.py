"""The Vosk model: where it is, whether it is usable, and the one copy in memory.

A missing or broken model is not an error: speech features are off and `problem()`
says why (shown by `hotline status`); callers get the key menu as before.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from hotline.speech.settings import SpeechConfig

if TYPE_CHECKING:
    import vosk

# What a Vosk model directory holds (small models: a lookahead graph, Gr.fst + HCLr.fst).
REQUIRED_FILES = ("am/final.mdl", "conf/mfcc.conf", "conf/model.conf", "ivector/final.ie")
GRAPH_FILES = (("graph/Gr.fst", "graph/HCLr.fst"), ("graph/HCLG.fst",))

_lock = threading.Lock()
_loaded: dict[Path, vosk.Model] = {}


def problem(model_dir: Path) -> str | None:
    """Why the model at model_dir cannot be used, or None when it can."""
    if not model_dir.is_dir():
        return f"no speech model at {model_dir}: run `hotline speech install-model`"
    missing = [f for f in REQUIRED_FILES if not (model_dir / f).is_file()]
    if not any(all((model_dir / f).is_file() for f in graph) for graph in GRAPH_FILES):
        missing.append("graph/Gr.fst + graph/HCLr.fst (or graph/HCLG.fst)")
    if missing:
        return f"speech model at {model_dir} is incomplete: missing {', '.join(missing)}"
    try:
        import vosk  # noqa: F401
    except ImportError as exc:
        return f"the vosk package does not load ({exc})"
    return None


def speech_problem(settings: SpeechConfig) -> str | None:
    return problem(settings.speech_model_dir)


def shared_model(model_dir: Path) -> vosk.Model:
    """The process's one copy of the model (loading takes seconds and hundreds of MB)."""
    key = model_dir.resolve()
    with _lock:
        model = _loaded.get(key)
        if model is None:
            import vosk

            vosk.SetLogLevel(-1)
            model = vosk.Model(str(key))
            _loaded[key] = model
        return model
