"""Nearby senders with zeroconf's real stack on loopback: a real ``inlet send`` announces, a
real `NearbyBrowser` sees it appear and vanish; hostile announcements are shown safely."""

from __future__ import annotations

import secrets
import signal

import pytest
from zeroconf import ServiceInfo, Zeroconf

from inlet.core import nearby
from inlet.core.codes import parse_code
from inlet.core.nearby import SERVICE_TYPE, NearbyBrowser, NearbySender, sender_from_service

from ..helpers import wait_until, write_random
from ..mdns import Seen

pytestmark = pytest.mark.timeout(90)

ANNOUNCED = "Nearby receivers see this sender as"


def unique(prefix: str) -> str:
    return f"{prefix} {secrets.token_hex(3)}"


@pytest.fixture
def browse(mdns_loopback):
    """A real browser on loopback, closed at the end: ``seen = browse()``."""
    browsers: list[NearbyBrowser] = []

    def start() -> Seen:
        seen = Seen()
        browser = NearbyBrowser(seen, interfaces=[mdns_loopback])
        browser.start()
        browsers.append(browser)
        return seen

    yield start
    for browser in browsers:
        browser.close()


@pytest.fixture
def zc(mdns_loopback):
    """A raw zeroconf on loopback, for announcements the test crafts itself."""
    instance = Zeroconf(interfaces=[mdns_loopback])
    yield instance
    instance.close()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_real_sender_appears_with_its_offer_and_vanishes_when_it_ends(
    tmp_path, senders, browse, stop
):
    source = tmp_path / "holiday"
    write_random(source / "a.bin", 1500)
    write_random(source / "sub" / "b.bin", 2500, seed=1)
    (source / "empty").write_bytes(b"")
    seen = browse()
    name = unique("Alice's laptop")
    sender = senders(source, "--name", name, announce=True)
    code = parse_code(sender.code)

    wait_until(lambda: seen.named(name) is not None, 30, f"the browser to see {name!r}")
    found = seen.named(name)
    assert (found.files, found.size) == (3, 4000)
    assert found.describe() == f"{name} — 3 files, 4.0 KB"
    assert found.hosts == ("127.0.0.1",) and found.port == code.port
    # The address part is all a nearby sender gives: with the words it is the sender's code.
    assert found.address == f"127.0.0.1:{code.port}:"
    assert parse_code(found.address + code.token) == code

    sender.proc.send_signal(stop)
    wait_until(lambda: found.key in seen.removed_keys, 30, f"{name!r} to vanish")
    assert sender.proc.wait(30) == (130 if stop == signal.SIGINT else 128 + signal.SIGTERM)
    assert ANNOUNCED in sender.proc.stderr.read()


def test_the_announcement_carries_no_secret(tmp_path, senders, browse, zc):
    write_random(tmp_path / "f.bin", 100)
    seen = browse()
    name = unique("Bob")
    sender = senders(tmp_path / "f.bin", "--name", name, announce=True)
    wait_until(lambda: seen.named(name) is not None, 30, f"the browser to see {name!r}")

    info = zc.get_service_info(SERVICE_TYPE, f"{name}.{SERVICE_TYPE}", timeout=5000)
    assert info is not None
    assert info.decoded_properties == {"v": "1", "files": "1", "size": "100"}
    token = parse_code(sender.code).token
    announced = f"{info.name} {info.server} {info.text!r}".lower()
    for word in token.split("-")[1:]:
        assert word not in announced


def test_no_announce_and_no_ext_announce_nothing(tmp_path, senders, browse):
    write_random(tmp_path / "f.bin", 100)
    seen = browse()
    quiet = unique("Quiet")
    legacy = unique("Legacy")
    loud = unique("Loud")
    hidden = senders(tmp_path / "f.bin", "--name", quiet, "--no-announce", announce=True)
    old = senders(tmp_path / "f.bin", "--name", legacy, "--no-ext", announce=True)
    shown = senders(tmp_path / "f.bin", "--name", loud, announce=True)
    wait_until(lambda: seen.named(loud) is not None, 30, f"the browser to see {loud!r}")

    for sender in (hidden, old, shown):
        sender.proc.send_signal(signal.SIGINT)
        sender.proc.wait(30)
    # An announcing sender ends only after its announcement was made (then withdrawn), so the
    # line is there whenever it announced; the control shows it is.
    assert ANNOUNCED in shown.proc.stderr.read()
    for sender in (hidden, old):
        assert "announce" not in sender.proc.stderr.read()
    assert not seen.ever_named(quiet) and not seen.ever_named(legacy)


def test_hostile_announcements_are_bounded_and_made_safe(browse, zc):
    seen = browse()
    tag = secrets.token_hex(3)
    # zeroconf itself refuses ASCII controls in names; C1 controls, bidi overrides and
    # zero-width characters pass through it.
    hostile = f"\u202egpj.exe {tag} \u009b2J\u200b"
    addresses = ["224.0.0.1", "0.0.0.0", "fe80::1"] + [f"127.0.0.{i}" for i in range(1, 21)]
    zc.register_service(
        ServiceInfo(
            SERVICE_TYPE,
            f"{hostile}.{SERVICE_TYPE}",
            port=4242,
            properties={"files": "-3", "size": "9" * 40, "token": "x" * 200},
            server=f"h{tag}.local.",
            parsed_addresses=addresses,
        )
    )
    wait_until(lambda: any(tag in s.name for s in seen.senders.values()), 30, "the hostile one")
    found = next(s for s in seen.senders.values() if tag in s.name)
    assert found.name == f"\\u202egpj.exe {tag} \\x9b2J\\u200b"
    # DNS keeps no order among a name's addresses: any 8 of the usable ones, none unusable.
    assert len(found.hosts) == nearby.MAX_ADDRESSES == 8
    assert set(found.hosts) <= {f"127.0.0.{i}" for i in range(1, 21)}
    assert (found.files, found.size) == (None, None)
    assert found.describe() == found.name


def test_services_it_cannot_use_are_not_listed():
    def service(**changes) -> NearbySender | None:
        fields = {
            "full_name": f"Carol.{SERVICE_TYPE}",
            "port": 15820,
            "addresses": ["192.168.1.20", "fd00::2"],
            "properties": {"files": "2", "size": "10"},
        } | changes
        return sender_from_service(**fields)

    carol = service()
    assert carol is not None and carol.address == "192.168.1.20,[fd00::2]:"
    assert service(port=0) is None and service(port=None) is None
    assert service(addresses=["224.0.0.251", "fe80::1", "not an address"]) is None
    assert service(full_name="Carol._http._tcp.local.") is None
    assert service(properties={"files": "12abc", "size": " 5"}).describe() == "Carol"
    long = service(full_name=f"{'x' * 300}.{SERVICE_TYPE}")
    assert len(long.name) == nearby.NAME_LIMIT


def test_at_most_max_senders_are_tracked(monkeypatch):
    """However many a network announces, the list stays bounded; a slot freed is reused."""
    monkeypatch.setattr(nearby, "MAX_SENDERS", 3)
    from zeroconf import ServiceStateChange

    class Network:  # answers get_service_info as a zeroconf whose cache holds every service
        def get_service_info(self, type_, name, timeout):
            return ServiceInfo(type_, name, port=1000, parsed_addresses=["10.0.0.1"])

    seen = Seen()
    browser = NearbyBrowser(seen)
    names = [f"s{i}.{SERVICE_TYPE}" for i in range(5)]
    for name in names:
        browser._changed(Network(), SERVICE_TYPE, name, ServiceStateChange.Added)
    assert seen.added_keys == [n.lower() for n in names[:3]]
    browser._changed(Network(), SERVICE_TYPE, names[4], ServiceStateChange.Removed)
    browser._changed(Network(), SERVICE_TYPE, names[0], ServiceStateChange.Removed)
    browser._changed(Network(), SERVICE_TYPE, names[4], ServiceStateChange.Updated)
    assert seen.removed_keys == [names[0].lower()]
    assert seen.added_keys[-1] == names[4].lower() and len(seen.senders) == 3
    browser.close()
    browser._changed(Network(), SERVICE_TYPE, names[1], ServiceStateChange.Removed)
    assert seen.removed_keys == [names[0].lower()]  # nothing is told once closed


def test_a_browser_that_cannot_start_says_why():
    seen = Seen()
    browser = NearbyBrowser(seen, interfaces=["198.51.100.7"])  # an address no interface has
    browser.start()
    wait_until(lambda: seen.problems, 30, "the browser to give up")
    browser.close()
    assert seen.problems[0] and not seen.senders
