"""The pure rules under the routes: which addresses are public, which byte range is meant."""

from __future__ import annotations

import ipaddress

import pytest

from quartet.media.addresses import AddressPolicy
from quartet.media.errors import RangeNotSatisfiableError
from quartet.media.filenames import clean_filename
from quartet.media.ranges import byte_range


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("2002:7f00:1::", "loopback"),
        ("10.0.0.1", "private"),
        ("fd12::1", "private"),
        ("64:ff9b::a00:1", "private"),
        ("169.254.169.254", "cloud metadata"),
        ("::ffff:169.254.169.254", "cloud metadata"),
        ("168.63.129.16", "cloud metadata"),
        ("fe80::1", "link-local"),
        ("169.254.1.1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - refused, not bound
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "not globally routable"),
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_address_classes(address: str, reason: str | None) -> None:
    assert AddressPolicy().refusal(ipaddress.ip_address(address)) == reason


def test_allowed_networks_open_addresses_but_never_metadata() -> None:
    policy = AddressPolicy(["10.0.0.0/8", "169.254.0.0/16"])

    assert policy.refusal(ipaddress.ip_address("10.1.2.3")) is None
    assert policy.refusal(ipaddress.ip_address("169.254.169.254")) == "cloud metadata"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-9", (0, 9)),
        ("bytes=90-", (90, 99)),
        ("bytes=-5", (95, 99)),
        ("bytes=-500", (0, 99)),
        ("bytes=50-5000", (50, 99)),
        ("bytes=0-1,5-6", None),
        ("items=0-1", None),
    ],
)
def test_byte_ranges(header: str | None, expected: tuple[int, int] | None) -> None:
    assert byte_range(header, 100) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=-0", "bytes=9-3"])
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(RangeNotSatisfiableError) as refused:
        byte_range(header, 100)
    assert refused.value.headers == {"Content-Range": "bytes */100"}


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("C:\\Users\\me\\photo.png", "photo.png"),
        ("../../etc/passwd", "passwd"),
        ('a"b;c\r\nd.png', "a_b_c_d.png"),
        ("...", None),
        ("", None),
    ],
)
def test_file_names_are_reduced_to_a_safe_base_name(raw: str, clean: str | None) -> None:
    assert clean_filename(raw) == clean
