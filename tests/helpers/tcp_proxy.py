"""A TCP proxy a test controls, to cut a link the way a firewall or a dead peer does:
cut() stops forwarding without closing anything (both ends see an open, silent
connection), and connections made while cut are accepted and left silent too;
resume() forwards new connections again (the cut ones stay silent for good)."""

from __future__ import annotations

import socket
import threading


class SilentCutProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._cut = False
        self._live: list[list[bool]] = []  # one flag per connection: still forwarding
        self._sockets: list[socket.socket] = []
        self.accepted = 0

    def start(self) -> SilentCutProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def cut(self) -> None:
        with self._lock:
            self._cut = True
            for flag in self._live:
                flag[0] = False

    def resume(self) -> None:
        with self._lock:
            self._cut = False

    def close(self) -> None:
        self._listener.close()
        for s in self._sockets:
            s.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.accepted += 1
            with self._lock:
                forwarding = [not self._cut]
                self._live.append(forwarding)
            self._sockets.append(client)
            if not forwarding[0]:
                threading.Thread(
                    target=self._pump, args=(client, None, forwarding), daemon=True
                ).start()
                continue
            upstream = socket.create_connection(self.target)
            self._sockets.append(upstream)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b, forwarding), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket | None, forwarding: list[bool]) -> None:
        """Copy src to dst while forwarding; once cut, read and drop (nothing is closed)."""
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                return
            if not data:
                return
            if dst is not None and forwarding[0]:
                try:
                    dst.sendall(data)
                except OSError:
                    return
