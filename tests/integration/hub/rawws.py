"""A small RFC 6455 WebSocket client on the standard library, for protocol-level hub tests.

It does what the official SignalR client never would: sends malformed handshakes, several records
in one frame, a record split over fragmented frames, oversized or invalid data, and goes silent.
"""
from __future__ import annotations

import base64
import os
import socket
import struct
import time

RS = "\x1e"
TEXT, BINARY, CONT, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA


class Closed(Exception):
    """The server closed the WebSocket (code, reason) or the TCP connection (code None)."""

    def __init__(self, code=None, reason=""):
        super().__init__(f"closed: {code} {reason}")
        self.code = code
        self.reason = reason


class RawWs:
    def __init__(self, port: int, path: str, headers: dict | None = None, timeout: float = 5):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise Closed()
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)}
        self.body = b""
        if self.status != 101:
            length = int(self.headers.get("content-length", "0"))
            while len(self.buf) < length:
                chunk = self.sock.recv(4096)
                if not chunk:
                    break
                self.buf += chunk
            self.body, self.buf = self.buf[:length], self.buf[length:]

    # -- sending -------------------------------------------------------------------------------
    def send_frame(self, opcode: int, payload: bytes, fin: bool = True):
        mask = os.urandom(4)
        head = bytes([(0x80 if fin else 0) | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def send_text(self, text: str):
        self.send_frame(TEXT, text.encode())

    def handshake(self, version: int = 1) -> list[str]:
        self.send_text('{"protocol":"json","version":%d}' % version + RS)
        return self.records()

    # -- receiving -----------------------------------------------------------------------------
    def _read(self, n: int, deadline: float) -> bytes:
        while len(self.buf) < n:
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError("no data from the server")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                chunk = b""
            if not chunk:
                raise Closed()
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_frame(self, timeout: float = 5):
        deadline = time.time() + timeout
        b0, b1 = self._read(2, deadline)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read(2, deadline))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read(8, deadline))[0]
        if b1 & 0x80:
            raise AssertionError("the server masked a frame")
        return bool(b0 & 0x80), b0 & 0x0F, self._read(n, deadline)

    def recv_message(self, timeout: float = 5) -> str:
        """The next text message; answers pings; raises Closed on a close frame."""
        deadline = time.time() + timeout
        parts = []
        while True:
            fin, op, payload = self.recv_frame(max(0.01, deadline - time.time()))
            if op == PING:
                self.send_frame(PONG, payload)
                continue
            if op == CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                try:
                    self.send_frame(CLOSE, payload[:2])
                except OSError:
                    pass
                raise Closed(code, payload[2:].decode("utf-8", "replace"))
            parts.append(payload)
            if fin:
                return b"".join(parts).decode()

    def records(self, timeout: float = 5) -> list[str]:
        """The records of the next message (each without its separator)."""
        text = self.recv_message(timeout)
        assert text.endswith(RS), repr(text)
        return text[:-1].split(RS)

    def wait_closed(self, timeout: float = 5) -> list[str]:
        """Reads until the server closes; returns every record seen before the close."""
        seen = []
        deadline = time.time() + timeout
        while True:
            try:
                seen += self.records(max(0.01, deadline - time.time()))
            except Closed:
                return seen

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
