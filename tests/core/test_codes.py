"""Transfer codes: what a person pastes, and the tokens Inlet makes."""

import math

import pytest

from inlet.core.codes import DEFAULT_PORT, WORDS, TransferCode, generate_token, parse_code
from inlet.core.errors import CodeError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100.64.1.123:ocean-tiger", TransferCode("100.64.1.123", DEFAULT_PORT, "ocean-tiger")),
        ("127.0.0.1:40000:a-b-c-d", TransferCode("127.0.0.1", 40000, "a-b-c-d")),
        ("  inlet receive host.local:x-y \n", TransferCode("host.local", DEFAULT_PORT, "x-y")),
        ("[::1]:5000:tok", TransferCode("::1", 5000, "tok")),
        ("[fd7a::1]:tok", TransferCode("fd7a::1", DEFAULT_PORT, "tok")),
    ],
)
def test_valid_codes_parse(text, expected):
    assert parse_code(text) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("ocean-tiger", "no ':'"),
        ("host:", "no token"),
        ("host:99999:tok", "not a port"),
        ("host:12ab:tok", "not a port"),
        ("a:1:2:3", "too many"),
        ("ho st:tok", "spaces"),
        ("bad_host!:tok", "not a host"),
        ("host:tok$en", "characters"),
        ("[::1:tok", "never closes"),
        ("[host]:tok", "not an IPv6"),
    ],
)
def test_malformed_codes_say_what_is_wrong(text, why):
    with pytest.raises(CodeError, match=why) as info:
        parse_code(text)
    assert "HOST:TOKEN" in str(info.value) or "100.64.1.123:ocean-tiger" in str(info.value)


def test_code_round_trips_through_str():
    for code in (
        TransferCode("10.0.0.2", DEFAULT_PORT, "ab-cd"),
        TransferCode("10.0.0.2", 1234, "ab-cd"),
        TransferCode("::1", 1234, "ab-cd"),
    ):
        assert parse_code(str(code)) == code
    assert str(TransferCode("h", DEFAULT_PORT, "t")) == "h:t"


def test_generated_tokens_carry_at_least_32_bits():
    assert len(set(WORDS)) == len(WORDS) == 256
    token = generate_token()
    words = token.split("-")
    assert all(w in WORDS for w in words)
    assert len(words) * math.log2(len(WORDS)) >= 32
    assert parse_code(f"h:{token}").token == token
    assert len({generate_token() for _ in range(50)}) > 45
