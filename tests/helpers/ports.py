"""The integration tests' hotline ports: its own, beside a hotline that runs on the defaults
(SIP 5060, AMI 5038, FastAGI 4573, API 8345, speech 4575) on the same machine; and a free
port for a unit test's own server.
"""

from __future__ import annotations

import socket

PORTS = {"sip": 5160, "ami": 5138, "agi": 4673, "api": 8445, "speech": 4675}
# where the tests' SIPp callers send their INVITEs
SIP_TARGET = f"127.0.0.1:{PORTS['sip']}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
