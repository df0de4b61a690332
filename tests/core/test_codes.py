"""Transfer codes: what a person pastes, and the tokens Inlet makes."""

import math

import pytest

from inlet.core.codes import DEFAULT_PORT, WORDS, TransferCode, generate_token, parse_code
from inlet.core.errors import CODE_EXAMPLE, CodeError


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
    assert "HOST:TOKEN" in str(info.value) or CODE_EXAMPLE in str(info.value)


def test_code_round_trips_through_str():
    for code in (
        TransferCode("10.0.0.2", DEFAULT_PORT, "ab-cd"),
        TransferCode("10.0.0.2", 1234, "ab-cd"),
        TransferCode("::1", 1234, "ab-cd"),
    ):
        assert parse_code(str(code)) == code
    assert str(TransferCode("h", DEFAULT_PORT, "t")) == "h:t"


def test_generated_inlet_tokens_are_a_digit_and_four_words_and_pake():
    assert len(set(WORDS)) == len(WORDS) == 256
    token = generate_token()
    digit, *words = token.split("-")
    assert digit.isdigit() and len(digit) == 1
    assert all(w in WORDS for w in words)
    assert math.log2(10) + len(words) * math.log2(len(WORDS)) >= 35
    code = parse_code(f"h:{token}")
    assert code.token == token and code.pake
    assert len({generate_token() for _ in range(50)}) > 45


def test_generated_legacy_tokens_carry_64_bits_and_are_not_pake():
    token = generate_token(pake=False)
    words = token.split("-")
    assert all(w in WORDS for w in words)
    assert len(words) * math.log2(len(WORDS)) >= 64
    assert not parse_code(f"h:{token}").pake


@pytest.mark.parametrize(
    ("token", "pake"),
    [("7-amber-ocean-tiger-river", True), ("42-x", True), ("ocean-tiger", False), ("7", False)],
)
def test_the_token_form_chooses_the_handshake(token: str, pake: bool) -> None:
    assert parse_code(f"10.0.0.1:{token}").pake is pake


def test_a_code_carries_several_addresses():
    code = parse_code("100.64.0.7,192.168.1.5,[fd7a:115c:a1e0::5]:40000:7-a-b")
    assert code.hosts == ("100.64.0.7", "192.168.1.5", "fd7a:115c:a1e0::5")
    assert code.host == "100.64.0.7" and code.port == 40000 and code.token == "7-a-b"
    assert parse_code(str(code)) == code
    assert str(code) == "100.64.0.7,192.168.1.5,[fd7a:115c:a1e0::5]:40000:7-a-b"
    assert parse_code("[::1],10.0.0.2:tok").hosts == ("::1", "10.0.0.2")
    with pytest.raises(CodeError, match="not a host"):
        parse_code("10.0.0.1,,10.0.0.2:tok")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7-crossover-clockwork", "7-crossover-clockwork"),
        ("  wormhole receive 7-crossover-clockwork ", "7-crossover-clockwork"),
        ("inlet receive 42-guitarist-revenue-tumor", "42-guitarist-revenue-tumor"),
        ("192.168.1.20:7-amber-ocean-tiger-river", None),  # an Inlet code names its host
        ("host:ocean-tiger", None),
        ("crossover-clockwork", None),
        ("7", None),
        ("7-", None),
    ],
)
def test_a_wormhole_code_is_a_number_and_words_without_a_host(text, expected):
    from inlet.core.codes import wormhole_code

    assert wormhole_code(text) == expected
