"""The session guard in conftest.py refuses network access beyond loopback."""

from __future__ import annotations

import socket

import pytest


def test_only_loopback_is_reachable() -> None:
    with socket.socket() as sock, pytest.raises(AssertionError, match="loopback only"):
        sock.connect(("192.0.2.1", 443))  # TEST-NET-1: never routed


def test_loopback_is_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.socket() as client:
            client.connect(server.getsockname())
