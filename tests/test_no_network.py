"""The suite runs offline: only loopback connections are allowed (tests/conftest.py ``_no_network``)."""

import socket

import pytest

from tests.conftest import NetworkBlocked


@pytest.mark.parametrize("address", [("192.0.2.10", 443), ("2001:db8::1", 443), ("example.org", 80)])
def test_non_loopback_connections_fail_before_sending(address):
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock, pytest.raises(NetworkBlocked, match="loopback only"):
        sock.connect(address)
    with socket.socket(family, socket.SOCK_STREAM) as sock, pytest.raises(NetworkBlocked):
        sock.connect_ex(address)


def test_loopback_is_allowed():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=2):
            pass
