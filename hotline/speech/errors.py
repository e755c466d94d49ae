"""The speech package's exceptions, each with a stable error_id (kernel/errors.py).

HotlineError
 ├── ProtocolError     speech.audiosocket_protocol   (audiosocket.py)
 ├── TranscribeError   speech.transcribe_failed      (transcribe.py)
 └── InstallError      speech.install_failed         the Vosk model (install.py)
"""

from __future__ import annotations

from hotline.kernel.errors import HotlineError


class ProtocolError(HotlineError):
    """The peer sent something that is not an AudioSocket frame where one was expected."""

    error_id = "speech.audiosocket_protocol"


class TranscribeError(HotlineError):
    """The audio could not be read or recognised."""

    error_id = "speech.transcribe_failed"


class InstallError(HotlineError):
    """The model could not be downloaded, unpacked or verified; nothing was installed."""

    error_id = "speech.install_failed"
