"""The services of `hotline up`, in start order: a light module, for the CLI's options."""

from __future__ import annotations

# upstream idles when no upstream.url is configured
ALL_SERVICES = (
    "asterisk",
    "agi",
    "bridge",
    "acd",
    "live",
    "api",
    "recordings",
    "callbacks",
    "upstream",
    "duty",
    "transcripts",
    "speech",
)
