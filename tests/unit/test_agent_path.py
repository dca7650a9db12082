"""The agent's PATH: a learner's login PATH has no sbin, where Debian keeps nft, dnsmasq and ethtool."""

from __future__ import annotations

from labkit.targets.local import agent_path


def test_a_learners_login_path_gets_the_sbin_folders_after_its_own() -> None:
    assert agent_path("/usr/local/bin:/usr/bin:/bin:/usr/games") == \
        "/usr/local/bin:/usr/bin:/bin:/usr/games:/usr/local/sbin:/usr/sbin:/sbin"


def test_roots_path_is_kept_as_it_is_and_an_empty_one_gets_the_defaults() -> None:
    root = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    assert agent_path(root) == root
    assert agent_path(None) == "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"
    assert agent_path("") == agent_path(None)
