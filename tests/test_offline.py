import socket

import pytest

from conftest import NetworkRefused


def test_non_loopback_connections_are_refused():
    with pytest.raises(NetworkRefused):
        socket.create_connection(("192.0.2.1", 80), timeout=1)
    with pytest.raises(NetworkRefused):
        socket.getaddrinfo("huggingface.co", 443)


def test_loopback_is_allowed():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname(), timeout=1)
    client.close()
    server.close()


def test_offline_environment_is_set():
    import os

    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"
    assert os.environ["ANONYMIZED_TELEMETRY"] == "False"
