from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from django.test import RequestFactory

from delegate.core.http import client_address
from delegate.env import ConfigError, env_networks


def _address(remote: str, forwarded: str | None = None) -> str | None:
    extra: dict[str, Any] = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **extra))


def test_without_trusted_proxies_the_peer_is_the_client(settings: Any) -> None:
    settings.TRUSTED_PROXIES = []
    assert _address("198.51.100.1", "203.0.113.7") == "198.51.100.1"


def test_a_trusted_proxy_names_the_client(settings: Any) -> None:
    settings.TRUSTED_PROXIES = [
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("2001:db8::/32"),
    ]
    # the right-most hop that is not a proxy; what the client put on the left is ignored
    assert _address("10.1.2.3", "6.6.6.6, 203.0.113.7") == "203.0.113.7"
    assert _address("10.1.2.3", "203.0.113.7, 10.9.9.9") == "203.0.113.7"
    assert _address("2001:db8::1", "2001:db8::2, 2a00:1450::1") == "2a00:1450::1"
    # a peer that is not a trusted proxy: its header is not believed
    assert _address("198.51.100.1", "203.0.113.7") == "198.51.100.1"
    # no header, only proxies in it, or garbage: the peer
    assert _address("10.1.2.3") == "10.1.2.3"
    assert _address("10.1.2.3", "10.0.0.9") == "10.1.2.3"
    assert _address("10.1.2.3", "203.0.113.7, not-an-ip") == "10.1.2.3"


def test_trusted_proxies_must_be_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.1, 192.168.0.0/16")
    assert env_networks("TRUSTED_PROXIES") == [
        ipaddress.ip_network("10.0.0.1/32"),
        ipaddress.ip_network("192.168.0.0/16"),
    ]
    monkeypatch.setenv("TRUSTED_PROXIES", "proxy.internal")
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        env_networks("TRUSTED_PROXIES")
