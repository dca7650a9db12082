"""The hub tier: deploy/one-server/jupyterhub_config.py on this machine, two learners at once in a real browser.

The hub (JupyterHub and configurable-http-proxy from ``install-system.sh --hub``) runs as
root on 127.0.0.1 with free ports, from a private state folder, with the shipped
configuration loaded unchanged (an overlay sets only the ports, and lets the test reach
``window.jupyterapp``). Two learners are made by ``deploy/one-server/add-learners.sh``
(real local users, PAM passwords) and log in through the hub's login form in headless
Chromium, each in its own browser context, at the same time. Each runs
``isolation_cells`` (a bridge lab with a capture, the SAME names and addresses in both)
in its own server, at once. Then the test checks, from both kernels and from the host:
each lab is rootless and its agent runs as its learner; the two labs are different
network namespaces; each capture holds only its own learner's pings; neither lab lists
the other's namespaces; neither kernel can enter the other's namespace, list its
capture folder or read its saved capture; and the host namespace has none of their
devices or addresses. Both pages are screenshotted into ``artifacts/shared-server/``.
The hub, its proxy, both learners and every process they ran are removed by PID.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nbformat
import pytest
from isolation_cells import isolation_notebook
from machine import ROOT, Learner, install_system, remove_learner

pytestmark = pytest.mark.hub

CONFIG = ROOT / "deploy" / "one-server" / "jupyterhub_config.py"
ADD_LEARNERS = ROOT / "deploy" / "one-server" / "add-learners.sh"
HUB = "/opt/labkit/venv/bin/jupyterhub"
CHROMIUM = os.environ.get("LABKIT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = ROOT / "artifacts" / "shared-server"
LAB_SETTINGS = {  # the learner's own JupyterLab settings: every cell in the DOM, no news prompt over the screenshot
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}
KERNEL_READY = """() => {
  const app = window.jupyterapp; const w = app && app.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!(k && k.status === 'idle' && w.content && w.content.widgets.length > 0);
}"""
ALL_RAN = """() => {
  const w = window.jupyterapp.shell.currentWidget; const k = w.sessionContext.session.kernel;
  return k.status === 'idle' && w.content.widgets.every(c => c.model.executionCount !== null);
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(pid: int, grace: float = 20.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` s: one process (not our child), by PID."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)


def _prepare(learner: Learner) -> None:
    """What the learner has before logging in: their JupyterLab settings and the notebook of the test."""
    for name, value in LAB_SETTINGS.items():
        path = learner.home / ".jupyter" / "lab" / "user-settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    (learner.home / "labkit").mkdir(exist_ok=True)
    nbformat.write(isolation_notebook(), learner.home / "labkit" / "isolation.ipynb")
    subprocess.run(["chown", "-R", f"{learner.name}:{learner.name}", str(learner.home)], check=True)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if os.geteuid() != 0:
        pytest.skip("this tier makes local users and runs JupyterHub, which starts servers as them: run it as root")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (or set LABKIT_CHROMIUM)")
    pytest.importorskip("playwright.async_api", reason="pip install playwright (no browser download needed)")
    install_system(hub=True)
    group_existed = subprocess.run(["getent", "group", "labkit-learners"], capture_output=True).returncode == 0
    sheet = subprocess.run([str(ADD_LEARNERS), "2", f"lkh{secrets.token_hex(2)}"], capture_output=True, text=True,
                           check=False, timeout=120)
    import pwd

    made = []
    for line in sheet.stdout.splitlines():
        name, password = line.split()
        entry = pwd.getpwnam(name)
        made.append((Learner(name, entry.pw_uid, Path(entry.pw_dir)), password))
    state = tmp_path_factory.mktemp("hub")
    os.chmod(state, 0o700)
    proc: subprocess.Popen[bytes] | None = None
    log: Any = None
    proxy_pid_file = state / "jupyterhub-proxy.pid"
    try:
        assert sheet.returncode == 0 and len(made) == 2, f"add-learners.sh failed: {sheet.stdout}\n{sheet.stderr}"
        for learner, _ in made:
            _prepare(learner)
        port = free_port()
        (state / "overlay.py").write_text(
            f"load_subconfig({str(CONFIG)!r})  # the shipped configuration, unchanged\n"
            f"c.JupyterHub.port = {port}\n"
            f"c.JupyterHub.hub_port = {free_port()}\n"
            f"c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:{free_port()}'\n"
            "c.Spawner.args = ['--LabApp.expose_app_in_browser=True', '--LabApp.news_url=']  # test hooks only\n")
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "LANG": "C.UTF-8", "HOME": str(state)}
        log = open(state / "hub.log", "wb")  # noqa: SIM115 - closed in the finally below
        proc = subprocess.Popen([HUB, "-f", str(state / "overlay.py")], cwd=state, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/hub/api", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("JupyterHub did not start:\n" + (state / "hub.log").read_text()[-3000:])
            time.sleep(0.5)
        yield {"url": url, "learners": made, "state": state, "proc": proc}
    finally:
        SHOTS.mkdir(parents=True, exist_ok=True)
        for learner, _ in made:  # what each learner's kernel wrote, kept for reading after a failure
            for found in (learner.home / "labkit").glob("*.json"):
                (SHOTS / f"hub-{learner.name[-1]}-{found.name}").write_bytes(found.read_bytes())
        began = time.monotonic()
        with ThreadPoolExecutor(2) as pool:  # their servers, kernels and labs first (by PID), both at once
            list(pool.map(remove_learner, [learner for learner, _ in made]))
        removed = time.monotonic()
        if proc is not None:  # SIGTERM (the hub stops its proxy too), then SIGKILL; waited for, so no zombie is left
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            if proxy_pid_file.exists():
                _stop(int(proxy_pid_file.read_text().strip() or 0) or -1)
        if log is not None:
            log.close()
        print(f"\nhub teardown: learners removed in {removed - began:.1f} s, hub stopped in {time.monotonic() - removed:.1f} s")
        if (state / "hub.log").exists():
            (SHOTS / "hub.log").write_bytes((state / "hub.log").read_bytes())
        if not group_existed:
            subprocess.run(["groupdel", "labkit-learners"], capture_output=True, check=False)
        left = [learner.name for learner, _ in made if learner.pids()]
        assert not left, f"processes of {left} outlived the test"


async def _login_and_run(browser: Any, url: str, learner: Learner, password: str) -> Any:
    """Log in through the hub's form, wait for this learner's JupyterLab, open the notebook and Run All."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    await page.goto(f"{url}/hub/login")
    await page.fill("#username_input", learner.name)
    await page.fill("#password_input", password)
    await page.click("#login_submit")
    await page.wait_for_url(f"**/user/{learner.name}/lab**", timeout=240_000)
    await page.goto(f"{url}/user/{learner.name}/lab/tree/isolation.ipynb?reset")
    await page.wait_for_function(KERNEL_READY, timeout=180_000)
    await page.evaluate("window.jupyterapp.shell.collapseLeft()")
    # not awaited: run-all's promise ends with the last cell, and cell 2 waits for the test (a deadlock otherwise)
    await page.evaluate("() => { window.jupyterapp.commands.execute('runmenu:run-all'); }")
    return page


def _wait_file(path: Path, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            try:
                return json.loads(path.read_text())
            except json.JSONDecodeError:
                pass  # being written
        time.sleep(0.3)
    raise AssertionError(f"{path} did not appear within {timeout:.0f} s")


def _netns_of(pid: int) -> str:
    return os.readlink(f"/proc/{pid}/ns/net")


def _uid_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    return -1


async def _drive(hub: dict[str, Any], checks: dict[str, Any]) -> None:
    from playwright.async_api import async_playwright

    url, made = hub["url"], hub["learners"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        pages: list[Any] = []
        try:
            started = time.monotonic()
            pages[:] = await asyncio.gather(*(_login_and_run(browser, url, learner, password) for learner, password in made))
            checks["login_to_running"] = round(time.monotonic() - started, 1)
            facts = [await asyncio.to_thread(_wait_file, learner.home / "labkit" / "facts.json", 240) for learner, _ in made]
            checks["facts"] = facts
            # both labs are up now (each kernel waits in cell 2): look at them from the host
            checks["agent_netns"] = [_netns_of(f["agent_pid"]) for f in facts]
            checks["agent_uid"] = [_uid_of(f["agent_pid"]) for f in facts]
            checks["host_netns"] = _netns_of(os.getpid())
            checks["host_links"] = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
            checks["host_addrs"] = subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True).stdout
            checks["host_netns_list"] = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
            for (learner, _), other in zip(made, reversed(facts), strict=True):
                peer = learner.home / "labkit" / "peer.json"
                peer.write_text(json.dumps({key: other[key] for key in ("agent_pid", "capture_dirs", "saved")}))
                os.chown(peer, learner.uid, learner.uid)
            checks["peer_results"] = [await asyncio.to_thread(_wait_file, learner.home / "labkit" / "peer-result.json", 120)
                                      for learner, _ in made]
            checks["agents_alive_after_both_tried"] = [Path(f"/proc/{f['agent_pid']}").exists() for f in facts]
            for learner, _ in made:
                (learner.home / "labkit" / "release.json").write_text("{}")
            for page in pages:
                await page.wait_for_function(ALL_RAN, timeout=120_000)
            checks["all_ran"] = round(time.monotonic() - started, 1)
            for (learner, _), page in zip(made, pages, strict=True):
                errors = await page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
                                            ":has-text('Error')").all_inner_texts()
                checks.setdefault("page_errors", []).append(errors)
                first = page.locator(".jp-Cell").nth(0)
                await first.locator(".jp-OutputArea").scroll_into_view_if_needed()
                await page.screenshot(path=str(SHOTS / f"hub-{learner.name[-1]}-lab.png"))
                await page.locator(".jp-Cell").nth(1).scroll_into_view_if_needed()
                await page.screenshot(path=str(SHOTS / f"hub-{learner.name[-1]}-peer.png"))
        finally:
            for (learner, _), page in zip(made, pages, strict=False):  # what each page shows, also when something failed
                checks.setdefault("page_text", []).append(await page.locator(".jp-NotebookPanel").inner_text())
                await page.screenshot(path=str(SHOTS / f"hub-{learner.name[-1]}-last.png"))
            await browser.close()


@pytest.mark.timeout(900)
def test_two_learners_log_in_and_run_a_lab_each_at_once_isolated(hub: dict[str, Any]) -> None:
    checks: dict[str, Any] = {}
    try:
        # in a thread of its own: when the browser tier ran first in this pytest, its session-wide
        # Playwright keeps an event loop running in this thread, and asyncio.run refuses to nest
        with ThreadPoolExecutor(1) as apart:
            apart.submit(asyncio.run, _drive(hub, checks)).result()
    finally:
        SHOTS.mkdir(parents=True, exist_ok=True)
        (SHOTS / "hub-checks.json").write_text(json.dumps(checks, indent=1, default=str))
    print(f"\nhub: both logged in and running after {checks['login_to_running']} s, all cells done after {checks['all_ran']} s")
    (learner_a, _), (learner_b, _) = hub["learners"]
    a, b = checks["facts"]
    assert not any(checks["page_errors"]), f"a cell failed in the browser: {checks['page_errors']}"
    # each learner's server, kernel and lab agent run as that learner; the lab is rootless
    assert (a["user"], a["uid"], b["user"], b["uid"]) == (learner_a.name, learner_a.uid, learner_b.name, learner_b.uid)
    assert a["mode"] == b["mode"] == "rootless"
    assert checks["agent_uid"] == [learner_a.uid, learner_b.uid], "an agent runs as someone else than its learner"
    # the same devices and addresses, in two different network namespaces, neither of them the host's
    assert a["interfaces"] == b["interfaces"] and "main/isobr0" in a["interfaces"], (a["interfaces"], b["interfaces"])
    assert a["addresses"] == b["addresses"] and "10.77.0.1/24" in a["addresses"]
    assert a["lab_id"] != b["lab_id"]
    assert len({*checks["agent_netns"], checks["host_netns"]}) == 3, \
        f"the two labs (and the host) do not each have a network namespace of their own: {checks['agent_netns']}"
    # packets: each capture holds its own three pings (requests and replies) and nothing of the other's
    assert a["marks"] == [a["pattern"]] and b["marks"] == [b["pattern"]] and a["pattern"] != b["pattern"], (a, b)
    assert a["icmp"] == b["icmp"] == [8, 0, 8, 0, 8, 0]
    # namespaces: each lab lists only its own
    for mine, other in ((a, b), (b, a)):
        assert all(other["lab_id"] not in name for name in mine["lab_netns"]), mine["lab_netns"]
        assert any(mine["lab_id"] in name for name in mine["lab_netns"]), mine["lab_netns"]
    # the other learner's namespace, capture folder and saved capture are closed to each kernel
    assert checks["agents_alive_after_both_tried"] == [True, True], "a lab closed before the other learner tried it"
    for results, other in zip(checks["peer_results"], (b, a), strict=True):
        # the namespace, the capture folder, and each saved file (the device's .pcap and capture.pcapng)
        assert len(results) == 2 + len(other["saved"]) == 4, results
        assert all("refused (PermissionError" in line for line in results), results
    # the host namespace: none of their devices, addresses or named namespaces, seen by the kernels and by root
    assert a["host_sees_iso"] == b["host_sees_iso"] == [] and a["host_sees_10_77"] == b["host_sees_10_77"] == []
    assert "iso" not in " ".join(line.split(":")[1] for line in checks["host_links"].splitlines())
    assert "10.77." not in checks["host_addrs"]
    assert a["lab_id"] not in checks["host_netns_list"] and b["lab_id"] not in checks["host_netns_list"]
