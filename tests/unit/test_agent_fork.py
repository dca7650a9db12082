

def test_only_a_vm_asks_for_the_fork_server() -> None:
    here = bootstrap_argv("python3", "ab1", key="0a1b", store="/s", target="bootstrapped")
    vm = bootstrap_argv("python3", "ab1", key="0a1b", store="/s", target="vagrant", fork_server=True)
    assert here[6] == "here" and vm[6] == "fork"
    assert here[7:9] == vm[7:9] == ["--lab-id", "ab1"]
