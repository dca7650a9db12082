import labkit
from labkit.errors import CheckFailed, KernelLacks, LabkitError, NotFound


def test_errors_say_what_where_and_what_next() -> None:
    err = NotFound("device 'veth9' does not exist", where="namespace main", hint="create it first")
    assert str(err) == "device 'veth9' does not exist (in namespace main). create it first"


def test_errors_keep_their_type_across_the_agent_pipe() -> None:
    err = KernelLacks("this kernel cannot make vlan devices", where="namespace main", hint="use the VM target")
    back = LabkitError.from_dict(err.to_dict())
    assert type(back) is KernelLacks and back.hint == "use the VM target"
    assert isinstance(LabkitError.from_dict({"type": "NoSuchType", "what": "x"}), LabkitError)


def test_check_failures_are_assertions() -> None:
    assert issubclass(CheckFailed, AssertionError)


def test_public_surface() -> None:
    assert set(labkit.__all__) == {"Background", "Change", "Diff", "Interface", "Lab", "LabkitError", "RunResult",
                                   "Snapshot", "diff", "errors", "steps"}
