"""A mistyped address is named precisely: which number, which part, what the rule is (labkit.address_problems)."""

from __future__ import annotations

import pytest

from labkit import i18n
from labkit.address_problems import address_problem, cidr_problem
from labkit.errors import InvalidInput
from labkit.names import check_cidr, check_ip, check_network

CASES = [
    ("10.0.0.300/24", False, "300 in '10.0.0.300' is more than 255"),
    ("10.0.0/24", False, "four numbers joined by dots; '10.0.0' has 3"),
    ("10.0.x.1/24", False, "'x' in '10.0.x.1' is not a number"),
    ("10.0.0.1/33", False, "the prefix length 33 is more than 32, the bits of an IPv4 address"),
    ("fd00::1/129", False, "the prefix length 129 is more than 128, the bits of an IPv6 address"),
    ("10.0.0.1/abc", False, "the prefix length 'abc' is not a number"),
    ("fd00:::1/64", False, "'fd00:::1' is not an IPv6 address"),
    ("hello/24", False, "'hello' is neither IPv4"),
    ("10.0.0.1/24", True, "10.0.0.1/24 has bits set after the prefix: the network that holds it is 10.0.0.0/24"),
]


@pytest.mark.parametrize(("text", "network", "said"), CASES)
def test_the_mistake_is_named(text: str, network: bool, said: str) -> None:
    assert said in str(cidr_problem(text, network=network))


@pytest.mark.parametrize("text", ["10.0.0.1/24", "fd00::1/64", "0.0.0.0/0", "10.0.0.0/8"])
def test_a_good_address_has_no_problem(text: str) -> None:
    assert cidr_problem(text) == "" and address_problem(text.split("/")[0]) is None


def test_errors_carry_the_diagnosis_in_the_learners_language(zh: None) -> None:
    with pytest.raises(InvalidInput) as bad:
        check_cidr("10.0.0.300/24")
    assert "'10.0.0.300' 中的 300 大于 255" in str(bad.value)
    with pytest.raises(InvalidInput) as bad:
        check_network("10.0.0.1/24")
    assert "包含它的网络是 10.0.0.0/24" in str(bad.value)
    with pytest.raises(InvalidInput) as bad:
        check_ip("10.0.0.1/24")
    assert "带有前缀长度" in str(bad.value)
    i18n.use("en")
    with pytest.raises(InvalidInput) as bad:
        check_ip("10.0.1")
    assert str(bad.value).startswith("address '10.0.1' is not an IP address: an IPv4 address is four numbers")
