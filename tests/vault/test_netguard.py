"""URL capture asked for over HTTP reaches public addresses only (no SSRF).

The machines have no internet, so the refusals are tested against real local servers and a
resolver the tests control; the guard must refuse before a single byte is sent.
"""

import ipaddress
import re
import socket

import pytest

from tests.vault.conftest import Site, Vault
from tidetrace.vault import capture
from tidetrace.vault.netguard import AddressGuard, RefusedAddress, forbidden_reason

REFUSED_LITERALS = [
    "http://127.0.0.1/",
    "http://localhost/",
    "http://127.1.2.3:8080/",
    "http://2130706433/",  # 127.0.0.1 as one number
    "http://0177.0.0.1/",  # 127.0.0.1 in octal
    "http://0.0.0.0/",
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",  # shared address space (carrier NAT)
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata service
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://[::1]/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:a9fe:a9fe]/",  # 169.254.169.254 mapped into IPv6
    "http://[64:ff9b::a00:1]/",  # 10.0.0.1 through NAT64
    "http://[2002:7f00:1::]/",  # 127.0.0.1 through 6to4
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[ff02::1]/",
]


@pytest.mark.parametrize("url", REFUSED_LITERALS)
def test_non_public_addresses_are_refused(url: str) -> None:
    with pytest.raises(RefusedAddress):
        AddressGuard().pin(url)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
def test_public_addresses_pass(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) is None
    guard = AddressGuard.from_hosts([], resolver=lambda host, port: [address])
    assert guard.pin("https://example.org/x").address == address


def test_one_private_answer_refuses_the_host() -> None:
    guard = AddressGuard.from_hosts([], resolver=lambda host, port: ["93.184.216.34", "10.0.0.5"])
    with pytest.raises(RefusedAddress, match=re.escape("private address 10.0.0.5")):
        guard.pin("http://mixed.example/")


def test_capture_of_a_local_server_is_refused_before_any_connection(vault: Vault) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.setblocking(False)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/secret"
        with pytest.raises(RefusedAddress, match="loopback"):
            capture.capture_url(vault.ws, vault.alice, vault.keyring, url, guard=AddressGuard())
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody ever connected


def test_allowed_host_is_captured(vault: Vault, site: Site) -> None:
    site.pages["/p"] = (200, "text/html", b"<title>ok</title><p>allowed</p>", {})
    guard = AddressGuard.from_hosts(["127.0.0.1"])
    item = capture.capture_url(
        vault.ws, vault.alice, vault.keyring, site.base + "/p", guard=guard
    ).item
    assert item.meta.title == "ok"
    assert item.meta.capture["server_ip"] == "127.0.0.1"


def test_redirect_to_a_private_address_is_refused(site: Site) -> None:
    """The first hop is allowed; the redirect target is checked on its own."""
    port = site.base.rsplit(":", 1)[1]
    site.pages["/go"] = (302, "text/plain", b"", {"Location": f"http://internal.test:{port}/x"})
    answers = {"127.0.0.1": ["127.0.0.1"], "internal.test": ["10.0.0.7"]}
    guard = AddressGuard.from_hosts(["127.0.0.1"], resolver=lambda h, p: answers[h])
    with pytest.raises(RefusedAddress, match=re.escape("internal.test: private address 10.0.0.7")):
        capture.fetch(site.base + "/go", guard=guard)
    # Redirected back to the loopback server under another name: refused too.
    answers["internal.test"] = ["::1"]
    with pytest.raises(RefusedAddress, match=re.escape("internal.test: loopback")):
        capture.fetch(site.base + "/go", guard=guard)


def test_redirect_to_a_non_http_scheme_is_refused(site: Site) -> None:
    site.pages["/f"] = (302, "text/plain", b"", {"Location": "file:///etc/passwd"})
    with pytest.raises(capture.CaptureError, match="left http"):
        capture.fetch(site.base + "/f", guard=AddressGuard.from_hosts(["127.0.0.1"]))


def test_dns_answer_that_changes_after_the_check_is_not_followed(site: Site) -> None:
    """DNS rebinding: the connection goes to the address checked, never a second answer."""
    port = site.base.rsplit(":", 1)[1]
    site.pages["/page"] = (200, "text/plain", b"checked address", {})
    calls: list[str] = []

    def flipping(host: str, _port: int) -> list[str]:
        calls.append(host)
        # First answer: the allowed local server; any later lookup would say 10.0.0.1.
        return ["127.0.0.1"] if len(calls) == 1 else ["10.0.0.1"]

    guard = AddressGuard.from_hosts(["127.0.0.1"], resolver=flipping)
    got = capture.fetch(f"http://flip.test:{port}/page", guard=guard)
    assert got.body == b"checked address"
    assert got.facts["server_ip"] == "127.0.0.1"
    assert calls == ["flip.test"]  # one lookup; httpx made none of its own
    records = capture.read_warc_records(got.warc)
    assert [r["uri"] for r in records if r["type"] == "response"] == [
        f"http://flip.test:{port}/page"
    ]

    first = ["10.0.0.1"]
    guard = AddressGuard.from_hosts(["127.0.0.1"], resolver=lambda h, p: first)
    with pytest.raises(RefusedAddress, match=re.escape("private address 10.0.0.1")):
        capture.fetch(f"http://flip.test:{port}/page", guard=guard)
