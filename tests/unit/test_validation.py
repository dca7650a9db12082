"""Bad input is refused before anything touches the kernel, with a hint (names, ns, CIDRs, timers,
capture filters); and an error is shown once, in colours that read in JupyterLab's dark theme."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from labkit import steps
from labkit.errors import CheckFailed, InvalidInput, NotFound
from labkit.names import (
    check_bool,
    check_cidr,
    check_filter,
    check_ifname,
    check_ip,
    check_label,
    check_network,
    check_ns,
    check_safe_name,
    check_seconds,
    split_ref,
)

NOT_A_NAME: list[Any] = [None, 5, 5.5, True, {}, [], ["h1"], {"ns": "h1"}, b"h1", ("h1",)]


def refused(call: Any, *args: Any, match: str | None = None, **kwargs: Any) -> InvalidInput:
    with pytest.raises(InvalidInput, match=match) as err:
        call(*args, **kwargs)
    assert err.value.hint.strip(), f"{call.__name__}{args}{kwargs} gave no hint"
    return err.value


# -- interface names ------------------------------------------------------------------
def test_a_name_is_measured_in_bytes_as_the_kernel_does() -> None:
    assert check_ifname("ä" * 7) == "ä" * 7  # 14 bytes
    assert check_ifname("brü0") == "brü0"
    error = refused(check_ifname, "ä" * 8, match="16 bytes in UTF-8")  # 8 characters, 16 bytes: the kernel cuts it
    assert "'äääääää'" in error.hint
    refused(check_ifname, "é" * 15, match="at most 15")


@pytest.mark.parametrize("bad", ["br0\x00x", "br0\x00", "br0\n", "\nbr0", "br0\r", "br0\u200b", "x\udc80", "br\x7f0", "\x1b[0m"])
def test_a_name_with_nul_newline_or_control_characters_is_refused(bad: str) -> None:
    error = refused(check_ifname, bad, match="control character")
    if "\x00" in bad:
        assert "another device" in error.what


def test_a_name_whose_utf8_holds_byte_a0_is_refused_like_the_kernel_does() -> None:
    refused(check_ifname, "à")  # C3 A0: the kernel's isspace() counts 0xa0, so it says EINVAL
    refused(check_ifname, "a\u00a0b")


@pytest.mark.parametrize("bad", NOT_A_NAME)
def test_a_name_that_is_no_string_is_invalid_input_not_a_type_error(bad: Any) -> None:
    refused(check_ifname, bad)


@pytest.mark.parametrize("bad", ['x"}', "x;y", "x$y", "x`y`", "brü0", "x{y", "x'y", "x\\y"])
def test_a_name_that_reaches_nft_keeps_to_the_safe_set(bad: str) -> None:
    refused(check_safe_name, bad, match="not safe")
    assert check_safe_name("eth0.100_a-b") == "eth0.100_a-b"


# -- namespaces and 'ns/dev' -------------------------------------------------------------
@pytest.mark.parametrize("bad", [*NOT_A_NAME, "", "H1", "h1\n", "main\n", "h1\x00", "a/b", "x" * 33, "-x", " main"])
def test_ns_must_be_a_namespace_label(bad: Any) -> None:
    error = refused(check_ns, bad)
    assert "ns=" in error.what and "'main'" in error.hint
    if bad == "h1\n":
        refused(check_label, bad)  # the trailing newline that `$` let through


def test_split_ref_splits_and_checks_both_parts() -> None:
    assert split_ref("h1/eth0") == ("h1", "eth0")
    assert split_ref("eth0") == ("main", "eth0")
    assert split_ref("eth0", default_ns="sw2") == ("sw2", "eth0")
    for bad in ["h1/", "/eth0", "h1/eth0/x", "H1/eth0", "h1/eth0\n", "h1/" + "a" * 16, 5, None, ["h1", "eth0"]]:
        refused(split_ref, bad)


# -- addresses, numbers, switches, filters ----------------------------------------------------
@pytest.mark.parametrize("bad", [5, {}, [], b"10.0.0.1/24", "10.0.0.1/24\n", "fe80::1%eth0/64", "10.0.0.1/24\x00"])
def test_addresses_of_the_wrong_type_or_with_junk_are_refused(bad: Any) -> None:
    refused(check_cidr, bad)
    refused(check_network, bad)
    refused(check_ip, bad)


def test_a_number_is_no_address() -> None:
    refused(check_network, 5)  # ipaddress alone takes 5 as 0.0.0.5/32
    refused(check_ip, 167772161)


@pytest.mark.parametrize("bad", [{}, [], "2", None, True, float("nan"), float("inf"), 1.9, 31, [15]])
def test_a_timer_is_a_finite_number_in_its_range(bad: Any) -> None:
    refused(check_seconds, bad, 2, 30, "forward_delay")
    assert check_seconds(15, 2, 30, "forward_delay") == 15.0


@pytest.mark.parametrize("bad", ["off", "no", "False", 2, None, {}, 0.5])
def test_a_switch_is_true_or_false(bad: Any) -> None:
    refused(check_bool, bad, "stp")
    assert check_bool(0, "stp") is False


@pytest.mark.parametrize("bad", ["-w/tmp/x", "  -w /tmp/x", "-V/etc/passwd", "--", 5, {}, "icmp\x00", "icmp\n-w/x"])
def test_a_capture_filter_may_not_be_an_option(bad: Any) -> None:
    refused(check_filter, bad)
    assert check_filter("  icmp or arp ") == "icmp or arp"
    assert check_filter("") == ""


# -- every step of these modules checks its ns and its names first --------------------------
STEPS_WITH_NS = [
    (steps.addr, ("va", "10.0.0.1/24")), (steps.addr_del, ("va", "10.0.0.1/24")), (steps.move_ip, ("va", "br0")),
    (steps.route, ("default", "10.0.0.1")), (steps.route_del, ("default",)), (steps.neigh_flush, ()),
    (steps.up, ("va",)), (steps.down, ("va", "vb")), (steps.delete, ("va",)), (steps.mtu, ("va", 1400)),
    (steps.mac, ("va", "02:00:00:00:00:01")), (steps.move, ("va", "h1")), (steps.sysctl, ("net.ipv4.ip_forward", 1)),
    (steps.rp_filter, ("va", 2)), (steps.accept_local, ("va",)), (steps.ip_forward, (True,)),
    (steps.masquerade, ("10.0.0.0/24", "va")),
]


@pytest.mark.parametrize("bad", [None, 5, {}, [], "main\n", "Main", "a/b"])
@pytest.mark.parametrize(("step", "args"), STEPS_WITH_NS, ids=[s.__name__ for s, _ in STEPS_WITH_NS])
def test_every_step_refuses_a_bad_ns(step: Any, args: tuple[Any, ...], bad: Any) -> None:
    assert step(*args).ops  # valid as given
    refused(step, *args, ns=bad)


def test_netns_refuses_a_trailing_newline() -> None:
    refused(steps.netns, "h1\n")
    refused(steps.netns, None)


def test_a_multi_op_step_checks_every_name_before_it_plans_one() -> None:
    refused(steps.down, "va", "x\udc80")
    refused(steps.up, "va", "vb", "bad\n")
    refused(steps.up, match="at least one")


def test_masquerade_never_writes_an_unsafe_name_into_nft() -> None:
    refused(steps.masquerade, "10.0.0.0/24", 'x"}', match="not safe")
    refused(steps.masquerade, "fd00::/64", "eth0", match="IPv6")
    assert 'oifname "eth0.1"' in steps.masquerade("10.0.0.0/24", "eth0.1").ops[0].args["script"]


def test_sysctl_keys_values_and_their_ranges() -> None:
    for key in ["kernel.panic", "net.ipv4.ip_forward\n", "net..ipv4", "net.ipv4.", 5]:
        refused(steps.sysctl, key, 1)
    for value in [{}, [], None, "1\n2", "x" * 300, 1.5, ""]:
        refused(steps.sysctl, "net.ipv4.ip_forward", value)
    assert steps.sysctl("net.ipv4.tcp_rmem", "4096 87380 6291456").ops[0].args["value"] == "4096 87380 6291456"
    assert steps.sysctl("net.ipv4.ip_forward", True).ops[0].args["value"] == "1"
    refused(steps.rp_filter, "va", 3)
    refused(steps.rp_filter, "eth0.100", 1, match="'.'")
    refused(steps.accept_local, "va", "off")
    refused(steps.ip_forward, "off")
    assert steps.rp_filter("all", 2).ops[0].args["key"] == "net.ipv4.conf.all.rp_filter"


def test_route_move_mac_and_move_ip_refuse_what_the_kernel_would_misread() -> None:
    refused(steps.route, "10.0.0.0/24", via="fd00::1", match="IPv6")
    refused(steps.route, "10.0.0.0/24", via=5)
    refused(steps.route, "10.0.0.0/24", dev=["va"])
    refused(steps.route_del, "10.0.0.0/24", dev="va\n")
    refused(steps.move, "va", "main", match="into main")
    refused(steps.mac, "va", "01:00:5e:00:00:01", match="multicast")
    refused(steps.move_ip, "va", "br0", cidrs="10.0.0.1/24")
    refused(steps.move_ip, "va", "br0", cidrs=[])
    refused(steps.move_ip, "va", "br0", cidrs=[5])


# -- the capture's filter goes after `--` -------------------------------------------------
class _FakeAgent:
    """Enough of an agent for Captures._launch: it records the argv instead of running tcpdump."""

    def __init__(self) -> None:
        self.argv: list[str] = []

        class K:
            lab_id = "unit01"

        self.kernel = K()

    def _argv(self, ns: str, argv: list[str]) -> list[str]:
        self.argv = argv
        return [sys.executable, "-c", "pass"]

    def python(self) -> dict[str, str]:
        return {"executable": sys.executable, "path": "/opt/labkit"}

    def popen(self, argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(argv, **kwargs)


@pytest.mark.parametrize("python_capture", [False, True])
def test_tcpdump_and_the_rootless_capture_get_the_filter_after_a_double_dash(python_capture: bool) -> None:
    from labkit.targets.agent_capture import Captures

    agent = _FakeAgent()
    captures = Captures(agent)  # type: ignore[arg-type]
    captures.python_capture = python_capture
    cap = captures._launch("c1", "main", "veth1", " icmp or arp ", 65535, None, 1024)
    try:
        assert agent.argv[-2:] == ["--", "icmp or arp"]
        with pytest.raises(InvalidInput):
            captures._launch("c2", "main", "veth1", "-w/tmp/labkit-unit.pcap", 65535, None, 1024)
    finally:
        captures.cleanup()
    assert cap.argv[-2:] == ["--", "icmp or arp"]


def test_a_capture_refuses_an_option_as_filter_before_it_asks_the_target() -> None:
    from labkit.capture.session import Capture

    class NoLab:
        @property
        def target(self) -> Any:
            raise AssertionError("the target was asked")

    with pytest.raises(InvalidInput, match="starts with '-'"):
        Capture(NoLab(), ["veth1"], filter="-w/tmp/x", start=False)
    # a filter with quotes is fine: it reaches tcpdump as one argv element after '--', never through a shell
    capture = Capture(NoLab(), ["veth1"], filter="ether host 'a'", start=False)
    assert capture.filter == "ether host 'a'"
    assert capture.commands() == ["(tcpdump on main/veth1 not started)"]


# -- an error is shown once, and readably in the dark theme -------------------------------------
@pytest.mark.parametrize("error", [NotFound("device 'x' is not there", where="namespace main", hint="create it"),
                                   CheckFailed("h1 does not reach h2", hint="bring up the bridge")])
def test_an_error_displays_its_box_once_however_often_ipython_asks(monkeypatch: pytest.MonkeyPatch,
                                                                     error: Any) -> None:
    import IPython.display

    shown: list[Any] = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **_: shown.extend(objs))
    first = error._render_traceback_()
    second = error._render_traceback_()  # IPython 9 asks twice for one exception
    assert len(shown) == 1
    assert first == second and len(first) == 1 and type(error).__name__ in first[0]
    other = NotFound("another")
    other._render_traceback_()
    assert len(shown) == 2  # a new exception gets its own box


def test_the_box_uses_jupyterlab_theme_colours_with_fallbacks() -> None:
    from labkit.ipython import render

    box = render(NotFound("x", where="namespace main", hint="y"))
    for var in ("--jp-error-color1", "--jp-content-font-color1"):
        assert f"var({var}, #" in box
    assert "var(--jp-warn-color1, #" in render(CheckFailed("x", hint="y"))
    assert "#fff8f6;" not in box  # no fixed light background the dark theme cannot read
    assert "background:rgba(" in box, "a translucent tint: light on a white page, dark on a dark one"
    # the contrast itself is measured in a real JupyterLab, both themes: tests/browser/test_themes.py
