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


def test_a_step_is_counted_and_named_in_a_learners_words(recorded: dict, recorded_after: dict) -> None:
    """'8 changes' for one enslave was noise: count things the step changed, name them in words."""
    from labkit.state.diff import describe

    before, after = parse(recorded), parse(recorded_after)
    delta = diff(before, after)
    assert delta.count() <= len(delta.lines())
    assert describe("master", None, "br0") == ["now a port of br0"]
    assert describe("flags", ("BROADCAST",), ("UP", "BROADCAST")) == ["up"]
    assert describe("addresses", ("10.0.0.1/24",), ("10.0.0.2/24",)) == ["+10.0.0.2/24", "−10.0.0.1/24"]
    assert describe("info", (("root_id", "8000.aa"), ("priority", 32768)), (("root_id", "1000.bb"), ("priority", 4096))) == [
        "priority 32768 → 4096"]  # the root moving is STP at work, not the step
    assert describe("state", "DOWN", "UP") == []  # said by flags
