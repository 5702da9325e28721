"""Shared fixtures. Every test runs with the network closed: only loopback connections are allowed."""

from __future__ import annotations

import ipaddress
import shutil
import socket
from pathlib import Path

import pytest

from rag.config import PROJECT_ROOT, Settings, set_offline_environment

set_offline_environment()

SAMPLE_ARTICLES = PROJECT_ROOT / "data" / "articles"
SHARED = PROJECT_ROOT.parent / "shared"
SEED_QUESTIONS = SHARED / "eval" / "seed" / "questions.jsonl"
XQUAD = SHARED / "eval" / "xquad-de-dev"


class NetworkRefused(OSError):
    pass


def _is_loopback(address: object) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX paths
        return True
    if not isinstance(address, tuple) or not address:
        return False
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost would need DNS: refused


@pytest.fixture(autouse=True, scope="session")
def refuse_network():
    """Nothing may reach the network at run time: any non-loopback connect fails the test that made it."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
            raise NetworkRefused(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    def connect_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
            raise NetworkRefused(f"test tried to reach the network: {address!r}")
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host not in (None, "localhost") and not _is_loopback((host,)):
            raise NetworkRefused(f"test tried to resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.getaddrinfo = getaddrinfo
    yield
    socket.socket.connect = real_connect
    socket.socket.connect_ex = real_connect_ex
    socket.getaddrinfo = real_getaddrinfo


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A fresh, empty index and the small SmolLM2 model (fast plumbing tests)."""
    return Settings(index_dir=tmp_path / "index", llm_backend="llamacpp", llamacpp_model="smollm2-135m")


@pytest.fixture(scope="session")
def sample_index_dir(tmp_path_factory) -> Path:
    """The bundled sample articles, ingested once per session (tests copy it before writing)."""
    from rag.ingest import ingest

    directory = tmp_path_factory.mktemp("sample") / "index"
    ingest([SAMPLE_ARTICLES], Settings(index_dir=directory))
    return directory


@pytest.fixture
def sample_settings(sample_index_dir: Path, tmp_path: Path) -> Settings:
    """A private copy of the sample index, answered by SmolLM2."""
    directory = tmp_path / "index"
    shutil.copytree(sample_index_dir, directory)
    return Settings(index_dir=directory, llm_backend="llamacpp", llamacpp_model="smollm2-135m")


@pytest.fixture
def qwen_settings(sample_settings: Settings) -> Settings:
    """The sample index answered by the embedded default model (Qwen2.5-Coder-1.5B)."""
    return sample_settings.with_overrides(llamacpp_model="qwen2.5-coder-1.5b")
