"""Wireshark's detail in a real JupyterLab: a learner clicks a TCP packet of the panes and reads Wireshark's
tree under them (fields with their bytes), then follows the stream and sees both directions.

h1 talks TCP to a small server in h2 while both ends are captured; the cell ends with ``lab.view(cap)``.
Screenshots: artifacts/screenshots/wireshark-tree.png, -hover.png, -follow.png and -follow-dark.png.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from .scratch import open_notebook, run_cell, scratch_notebook, wait_done

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(shutil.which("sharkd") is None,
                                 reason="sharkd is not installed (apt-get install wireshark-common)")]

SETUP = """from labkit.notebook import fresh_lab
lab = fresh_lab(uplink=False)
lab.netns('h1'); lab.netns('h2')
lab.veth('eth0', 'eth0', ns='h1', peer_ns='h2')
lab.addr('eth0', '10.78.0.1/24', ns='h1'); lab.addr('eth0', '10.78.0.2/24', ns='h2')
lab.up('eth0', ns='h1'); lab.up('eth0', ns='h2')
SERVER = '''
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.78.0.2", 8080)); s.listen(1); s.settimeout(20)
c, _ = s.accept(); got = c.recv(200)
c.sendall(b"HTTP/1.0 200 OK\\\\r\\\\nContent-Type: text/plain\\\\r\\\\n\\\\r\\\\nhello from h2\\\\n"); c.close()
'''
CLIENT = '''
import socket, time
for _ in range(100):
    try:
        c = socket.create_connection(("10.78.0.2", 8080), timeout=5); break
    except OSError:
        time.sleep(0.05)
c.sendall(b"GET / HTTP/1.0\\\\r\\\\nHost: h2\\\\r\\\\n\\\\r\\\\n"); print(c.recv(200).decode()); c.close()
'''
print('ready')"""
CAPTURE = """with lab.capture('h1/eth0', 'h2/eth0', filter='tcp port 8080') as cap:
    lab.spawn(*lab.python('-c', SERVER), ns='h2', name='server')
    print(lab.run(*lab.python('-c', CLIENT), ns='h1').stdout)
lab.view(cap, title='h1 asks h2 over TCP')"""
CELLS = [SETUP, CAPTURE, "lab.close()"]


def test_a_click_shows_wiresharks_tree_and_follow_shows_the_stream(jupyterlab: dict[str, Any], browser: Any,
                                                                  artifacts: Path) -> None:
    page = open_notebook(jupyterlab, browser, "wireshark.ipynb", scratch_notebook(CELLS))
    try:
        run_cell(page, 0)
        assert "ready" in wait_done(page, 0)["text"]
        run_cell(page, 1)
        done = wait_done(page, 1, timeout=90)
        assert "hello from h2" in done["text"], done["text"][-500:]
        view = page.locator(".labkit-step-view")
        # h2/eth0's 4th packet (index 3) is the client's GET: the first one with a payload
        row = view.locator('.lk-row[data-key="h2/eth0"][data-index="3"] > summary')
        row.scroll_into_view_if_needed()
        row.click()
        tree = view.locator(".lk-detail .lk-shark")
        tree.wait_for(state="visible", timeout=30_000)
        assert "h2/eth0 · frame 4" in tree.inner_text()
        view.locator(".lk-detail .lk-proto > summary", has_text="Transmission Control Protocol").click()
        port = view.locator('.lk-detail .lk-leaf[title^="tcp.srcport == "]')
        assert port.count() == 1 and "[34:36]" in port.inner_text(), port.all_inner_texts()
        assert view.locator('.lk-row[data-key="h2/eth0"][data-index="3"] pre').inner_text().count("###[") >= 3  # scapy's layers too
        view.locator(".lk-detail").scroll_into_view_if_needed()
        port.hover()  # Wireshark's bytes pane: the field's two bytes light up
        lit = view.locator(".lk-detail .lk-bytes span.lk-hl").all_inner_texts()
        found = re.search(r"Source Port: (\d+)", port.inner_text())
        assert found is not None, port.inner_text()
        number = int(found.group(1))
        assert len(lit) == 4 and lit[:2] == [f"{number >> 8:02x}", f"{number & 255:02x}"], lit  # hex, then text
        page.screenshot(path=str(artifacts / "wireshark-hover.png"), full_page=False)
        page.mouse.move(5, 500)
        page.screenshot(path=str(artifacts / "wireshark-tree.png"), full_page=False)
        view.locator(".lk-detail button.lk-follow").click()
        follow = view.locator(".lk-detail .lk-shark:has(span.lk-c[title^='frame'])")
        follow.wait_for(state="visible", timeout=30_000)
        client = follow.locator(".lk-c[title^='frame']").all_inner_texts()
        server = follow.locator(".lk-s[title^='frame']").all_inner_texts()
        assert client and client[0].startswith("GET / HTTP/1.0"), client
        assert server and "hello from h2" in server[-1], server
        follow.scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "wireshark-follow.png"), full_page=False)
        page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
        page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
        colour = view.locator(".lk-detail .lk-leaf").first.evaluate("(e) => getComputedStyle(e).color")
        assert colour != "rgb(34, 34, 34)", "the tree's text keeps the light theme's colour on a dark background"
        view.locator('.lk-row[data-key="h2/eth0"][data-index="3"]').scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "wireshark-follow-dark.png"), full_page=False)
        page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})")
        run_cell(page, 2)
        wait_done(page, 2)
    finally:
        page.close()
