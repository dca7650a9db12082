from labkit.state.diff import diff
from labkit.state.parse import parse


def test_diff_names_what_a_step_added_and_changed(recorded: dict, recorded_after: dict) -> None:
    before, after = parse(recorded), parse(recorded_after)
    delta = diff(before, after)
    assert set(delta.added["interfaces"]) == {"main/br1", "main/x0", "main/x1"}
    assert not delta.removed["interfaces"]
    assert not delta.empty
    assert any(line.startswith("+ interface main/br1") for line in delta.lines())


def test_counters_moving_is_not_a_change(recorded: dict) -> None:
    snap = parse(recorded)
    assert diff(snap, snap).empty


def test_everything_is_new_without_a_before(recorded: dict) -> None:
    snap = parse(recorded)
    assert len(diff(None, snap).added["interfaces"]) == len(snap.interfaces)
