import pytest

from labkit.errors import InvalidInput
from labkit.names import (
    check_cidr,
    check_ifname,
    check_lab_id,
    check_label,
    check_mac,
    check_network,
    netns_name,
    split_netns_name,
)


def test_ifname_accepts_15_characters_and_refuses_16() -> None:
    assert check_ifname("a" * 15) == "a" * 15
    with pytest.raises(InvalidInput, match="at most 15") as err:
        check_ifname("a" * 16)
    assert "shorter name" in err.value.hint


@pytest.mark.parametrize("bad", ["", "a/b", "a:b", "a b", ".", ".."])
def test_ifname_refuses_bad_characters(bad: str) -> None:
    with pytest.raises(InvalidInput):
        check_ifname(bad)


def test_cidr_needs_a_prefix_and_a_valid_address() -> None:
    assert str(check_cidr("20.1.0.10/24").ip) == "20.1.0.10"
    with pytest.raises(InvalidInput, match="no prefix"):
        check_cidr("20.1.0.10")
    with pytest.raises(InvalidInput, match="not a valid CIDR"):
        check_cidr("20.1.0.300/24")


def test_route_destination_is_a_network() -> None:
    assert str(check_network("default")) == "0.0.0.0/0"
    with pytest.raises(InvalidInput, match="host bits"):
        check_network("10.0.0.1/24")


def test_namespace_names_carry_the_lab_id_and_split_back() -> None:
    assert netns_name("ab12", "h1") == "labkit-ab12-h1"
    assert split_netns_name("labkit-ab12-qdhcp-net1") == ("ab12", "qdhcp-net1")
    assert split_netns_name("other-ns") is None
    assert split_netns_name("labkit-") is None


def test_labels_lab_ids_and_macs() -> None:
    assert check_label("qdhcp-net1") == "qdhcp-net1"
    with pytest.raises(InvalidInput):
        check_label("Has Space")
    with pytest.raises(InvalidInput):
        check_lab_id("x")
    assert check_mac("02-00-00-AA-bb-01") == "02:00:00:aa:bb:01"
    with pytest.raises(InvalidInput):
        check_mac("02:00:00")
