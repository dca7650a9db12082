""""Interrupt kernel" as JupyterLab does it: jupyter_client signals the kernel's whole
process group. The cell stops with a short box; the lab survives and answers right."""

from __future__ import annotations

import os
import queue
import sys
import time
from typing import Any

import pytest

pytestmark = [pytest.mark.kernel, pytest.mark.timeout(240)]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_cell(kc: Any, code: str, *, interrupt_after: float | None = None, km: Any = None,
             timeout: float = 60) -> dict[str, Any]:
    """Execute ``code``; optionally interrupt it after some seconds. Returns its outputs and status."""
    msg_id = kc.execute(code)
    outputs: list[dict[str, Any]] = []
    status = None
    sent = False
    started = time.monotonic()
    while True:
        if interrupt_after is not None and not sent and time.monotonic() - started >= interrupt_after:
            km.interrupt_kernel()
            sent = True
        if time.monotonic() - started > timeout:
            raise AssertionError(f"cell did not finish in {timeout} s: {code!r}; outputs so far {outputs}")
        try:
            msg = kc.get_iopub_msg(timeout=0.2)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if kind in ("stream", "error", "display_data", "execute_result"):
            outputs.append({"type": kind, **msg["content"]})
        if kind == "status" and msg["content"]["execution_state"] == "idle":
            break
    status = reply_to(kc, msg_id)["content"]["status"]
    return {"status": status, "outputs": outputs, "seconds": time.monotonic() - started}


def reply_to(kc: Any, msg_id: str, timeout: float = 10) -> dict[str, Any]:
    """The shell reply to request ``msg_id``, passing over replies to earlier requests.

    The shell channel can hold replies nobody read: ``start_new_kernel`` asks ``kernel_info``
    again every second until a slow-starting kernel answers, and each of those asks is answered.
    Taking "the next reply" would then read every cell's status one request late."""
    deadline = time.monotonic() + timeout
    while True:
        reply = kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply


def text_of(result: dict[str, Any]) -> str:
    parts = []
    for out in result["outputs"]:
        if out["type"] == "stream":
            parts.append(out["text"])
        elif out["type"] == "error":
            parts.append(out["ename"] + ": " + out["evalue"] + "\n" + "\n".join(out["traceback"]))
        else:
            parts.append(str(out.get("data", {}).get("text/plain", "")) + str(out.get("data", {}).get("text/html", "")))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def kernel():
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", cwd=ROOT)
    for _ in range(2):  # what a slow start leaves on the shell channel: replies to repeated kernel_info asks
        kc.kernel_info()
    try:
        result = run_cell(kc, "from labkit import Lab\nlab = Lab()\nlab.netns('ih')\nlab.veth('ia', 'ib', peer_ns='ih')\n"
                          "lab.addr('ia', '10.99.0.1/24'); lab.addr('ib', '10.99.0.2/24', ns='ih')\n"
                          "lab.up('ia'); lab.up('ib', ns='ih')\nprint('ready')")
        assert result["status"] == "ok" and "ready" in text_of(result), text_of(result)
        yield km, kc
    finally:
        run_cell(kc, "lab.close()")
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def _interrupted_well(result: dict[str, Any], what: str) -> None:
    text = text_of(result)
    assert result["status"] == "error", f"{what}: the cell did not stop: {text}"
    errors = [o for o in result["outputs"] if o["type"] == "error"]
    assert errors and errors[-1]["ename"] == "Interrupted", f"{what}: {text}"
    assert "intact" in text and "Traceback" not in text, f"{what}: not a short box: {text}"
    assert len(errors[-1]["traceback"]) <= 3, f"{what}: a traceback of {len(errors[-1]['traceback'])} lines"


def _lab_still_answers(kc: Any) -> None:
    result = run_cell(kc, "print(lab.run('echo', 'still-here').stdout.strip(), lab.snapshot().interface('ia').name)")
    assert result["status"] == "ok" and "still-here ia" in text_of(result), text_of(result)
    step = run_cell(kc, "print(lab.bridge('ibr').did_change, lab.delete('ibr').did_change)")
    assert "True True" in text_of(step), text_of(step)


def test_interrupt_during_a_long_run(kernel: Any) -> None:
    km, kc = kernel
    result = run_cell(kc, "lab.run('ping', '-c', '30', '-i', '0.2', '127.0.0.1')", interrupt_after=1.5, km=km)
    _interrupted_well(result, "ping")
    assert result["seconds"] < 10
    _lab_still_answers(kc)


def test_interrupt_during_wait_stp(kernel: Any) -> None:
    km, kc = kernel
    setup = run_cell(kc, "lab.bridge('sbr', stp=True, forward_delay=15); lab.enslave('ia', 'sbr'); lab.up('sbr')")
    assert setup["status"] == "ok", text_of(setup)
    result = run_cell(kc, "lab.wait_stp('sbr', timeout=50)", interrupt_after=1.5, km=km)
    _interrupted_well(result, "wait_stp")
    _lab_still_answers(kc)
    run_cell(kc, "lab.delete('sbr')")


def test_interrupt_during_a_capture(kernel: Any) -> None:
    km, kc = kernel
    code = ("with lab.capture('ih/ib', filter='icmp') as cap:\n"
            "    lab.run('ping', '-c', '40', '-i', '0.2', '10.99.0.2')\n")
    result = run_cell(kc, code, interrupt_after=2.0, km=km)
    _interrupted_well(result, "capture")
    after = run_cell(kc, "print('running' if cap.running else 'stopped', sum(cap.counts().values()) > 0)")
    assert "stopped True" in text_of(after), text_of(after)
    _lab_still_answers(kc)


def test_a_plain_sigint_to_the_kernel_alone_keeps_replies_in_step(kernel: Any) -> None:
    _km, kc = kernel
    import signal

    msg = run_cell(kc, "import os; print(os.getpid())")
    pid = int(text_of(msg).strip().splitlines()[-1])
    msg_id = kc.execute("lab.run('sleep', '20')")
    time.sleep(1.0)
    os.kill(pid, signal.SIGINT)
    time.sleep(3)
    while True:  # drain that cell's messages
        try:
            kc.get_iopub_msg(timeout=0.5)
        except queue.Empty:
            break
    reply_to(kc, msg_id)
    result = run_cell(kc, "print(lab.run('echo', 'mine').stdout.strip())")
    assert text_of(result).strip().endswith("mine"), text_of(result)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
