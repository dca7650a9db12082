"""A class on one machine: three learners at once, each a user of its own on the rootless target,
each running the bridge and STP labs; all pass, and none sees another's interfaces, addresses,
packets, captures or namespaces (bench/learners.py; bench/bench_learners.py gives the figures)."""

from __future__ import annotations

import os
import shutil

import pytest

from bench.learners import run_class

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="making the learners' users (useradd) needs root"),
    pytest.mark.skipif(not all(shutil.which(t) for t in ("useradd", "userdel", "setpriv", "unshare")),
                       reason="needs useradd, userdel, setpriv (passwd, util-linux) and unshare"),
]


def test_three_learners_at_once_all_pass_and_none_sees_another() -> None:
    run = run_class(3, timeout=240)
    assert run.passed, "the class failed:\n" + "\n".join(run.failures)
    assert len({r["uid"] for r in run.results}) == 3 and all(r["uid"] != 0 for r in run.results)
    for r in run.results:
        # two agents per learner: each learner tried the four agents of the other two, and was refused each time
        assert len(r["others_netns"]) == 4 and set(r["others_netns"].values()) == {"PermissionError"}, r["others_netns"]
    macs = [{m for lab in r["labs"].values() for m in lab["macs"]} for r in run.results]
    assert not (macs[0] & macs[1] or macs[0] & macs[2] or macs[1] & macs[2])
