"""The services of `hotline up`, in start order: a light module, for the CLI's options.

Asterisk first (the supervisor starts it before the others), the API last (it reports the
bridge's AMI connection). Which package runs each: hotline/app/plugins.py."""

from __future__ import annotations

# upstream idles when no upstream.url is configured
ALL_SERVICES = (
    "asterisk",
    "agi",
    "bridge",
    "acd",
    "live",
    "callbacks",
    "duty",
    "speech",
    "recordings",
    "transcripts",
    "upstream",
    "api",
)
# ours: each its own process, `hotline serve NAME` (Asterisk is not ours)
OUR_SERVICES = tuple(n for n in ALL_SERVICES if n != "asterisk")
