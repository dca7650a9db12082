"""The Lab facade against a fake target (like httpx's MockTransport): no kernel, no root."""

from __future__ import annotations

from typing import Any

import pytest

from labkit import Lab
from labkit.errors import MissingTool, NoPrivileges
from labkit.steps import ops
from labkit.targets.mock import MockTarget


def fake_agent(method: str, params: dict[str, Any]) -> Any:
    """Every op 'changes' the kernel and is undone by a link_del; other requests answer {}."""
    if method == "apply":
        return [{"op": op, "changed": True, "undo": [ops.link_del(op["ns"], "undo-" + op["action"]).to_dict()],
                 "commands": [op["command"]]} for op in params["ops"]]
    return {}


def FakeTarget() -> MockTarget:
    return MockTarget(fake_agent, lab_id="fake01")


def test_the_baseline_is_one_atomic_request_and_steps_are_recorded() -> None:
    target = FakeTarget()
    lab = Lab(target)
    method, params = target.requests[0]
    assert method == "apply" and [o["action"] for o in params["ops"]][:2] == ["netns_add", "netns_add"]
    change = lab.veth("veth0", "veth1")
    assert change.did_change and change.commands == ["ip link add name veth0 type veth peer name veth1"]
    assert lab.script() == "ip link add name veth0 type veth peer name veth1"
    lab.close()
    assert target.closed


def test_undo_sends_the_undo_ops_of_the_last_step() -> None:
    target = FakeTarget()
    lab = Lab(target, uplink=False)
    lab.veth("veth0", "veth1")
    lab.neigh_flush()
    undone = lab.undo()
    assert undone is not None and undone.title == "Undo: Create veth pair veth0 ↔ veth1", "a neighbour flush needs no undo"
    assert target.requests[-1][1]["ops"][0]["args"] == {"name": "undo-link_add"}
    assert lab.undo() is None


def test_a_batch_is_one_request() -> None:
    target = FakeTarget()
    lab = Lab(target, uplink=False)
    before = len(target.requests)
    with lab.batch() as batch:
        for i in range(5):
            lab.veth(f"a{i}", f"b{i}")
    assert len(target.requests) == before + 1 and len(target.requests[-1][1]["ops"]) == 5
    assert batch.change is not None and len(batch.change.commands) == 5


def test_steps_in_a_batch_say_they_are_planned() -> None:
    lab = Lab(FakeTarget(), uplink=False)
    with lab.batch():
        planned = lab.veth("a0", "b0")
    assert planned.planned and "planned" in repr(planned) and "already so" not in repr(planned)


def test_step_methods_have_the_steps_signatures() -> None:
    import inspect

    from labkit import steps

    lab = Lab(FakeTarget(), uplink=False)
    for name in ("veth", "bridge", "vxlan", "up", "addr"):
        assert list(inspect.signature(getattr(lab, name)).parameters) == list(inspect.signature(getattr(steps, name)).parameters)
        assert getattr(Lab, name).__doc__ == getattr(steps, name).__doc__


def test_a_failing_baseline_closes_the_target() -> None:
    def broken(method: str, params: dict[str, Any]) -> Any:
        raise NoPrivileges("no", hint="run as root")

    target = MockTarget(broken)
    with pytest.raises(NoPrivileges):
        Lab(target)
    assert target.closed


def test_no_privileges_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    from labkit.targets import local

    monkeypatch.delenv("LABKIT_MODE", raising=False)
    monkeypatch.setattr(local.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(local, "_sudo_works", lambda: False)
    monkeypatch.setattr(local, "_userns_works", lambda: False)
    with pytest.raises(NoPrivileges) as err:
        local.choose_mode()
    assert "sudo" in err.value.hint and "labkit doctor" in err.value.hint
    assert local.agent_argv("ab12", "sudo")[:3] == ["sudo", "-n", "--preserve-env=PYTHONPATH"]
    assert local.agent_argv("ab12", "rootless")[:5] == ["unshare", "--user", "--map-root-user", "--net", "--mount"]


def test_a_missing_graphviz_binary_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from labkit.render import svg

    monkeypatch.setenv("PATH", "/nonexistent")  # graphviz then cannot find `neato`
    with pytest.raises(MissingTool, match="neato") as err:
        svg.dot_to_svg("graph {}")
    assert "apt-get install graphviz" in err.value.hint
