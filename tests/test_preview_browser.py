"""`nwbconvert preview` reports opened in a real headless Chromium (Debian's `chromium`), driven over the Chrome
DevTools Protocol: the page loads with no console error and asks for nothing from the network, every image decodes
to a bitmap that is not one colour, and the sections expected for the file are there. A screenshot of each page
is kept in tests/artifacts/preview/ (git-ignored; CI keeps the clone)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cli_runner import nwbconvert
from conftest import COMPLETE_METADATA, ROOT, SAMPLE_DATA, realdata

ARTIFACTS = ROOT / "tests" / "artifacts" / "preview"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--window-size=1280,900",
)
# every <img>: loaded, its natural size, and whether its pixels hold more than one colour (read on a canvas)
IMAGES = """
Array.from(document.images).map(img => {
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  let colours = 0;
  if (img.complete && img.naturalWidth > 0) {
    const g = c.getContext('2d'); g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    const seen = new Set();
    for (let i = 0; i < d.length && seen.size < 3; i += 4 * 97) seen.add(d[i] + ',' + d[i+1] + ',' + d[i+2]);
    colours = seen.size;
  }
  return {alt: img.alt, complete: img.complete, width: img.naturalWidth, height: img.naturalHeight, colours};
})
"""


@dataclass
class PageCheck:
    errors: list[str]
    requests: list[str]
    images: list[dict[str, Any]]
    sections: list[str]
    screenshot: bytes


def open_in_chromium(page: Path) -> PageCheck:
    """Load `page` in headless Chromium and read back what a person's browser would show."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: .ci/run installs it (apt-get install -y chromium)")
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its renderer and helper processes share its group: all are stopped at the end
        )
        try:
            address = _devtools_address(proc)
            threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep the pipe from filling up
            return asyncio.run(_inspect(address, page))
        finally:
            _stop_group(proc)


def _stop_group(proc: subprocess.Popen[str], timeout_s: float = 30.0) -> None:
    """Kill chromium and every process of its group, and wait until none is left writing to its profile (killing
    the browser alone left a helper writing there while the profile folder was removed)."""
    import os
    import signal
    import time

    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=timeout_s)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"chromium's processes were still running {timeout_s:g} s after being killed")


def _devtools_address(proc: subprocess.Popen[str], timeout_s: float = 60.0) -> str:
    """The browser's DevTools socket, from the line chromium prints on start (within `timeout_s`)."""
    import select
    import time

    assert proc.stderr is not None
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        if not select.select([proc.stderr], [], [], left)[0]:
            break
        line = proc.stderr.readline()
        if not line:
            raise AssertionError(f"chromium exited (code {proc.wait()}) without a DevTools address")
        if "DevTools listening on" in line:
            return line.split("DevTools listening on", 1)[1].strip()
    raise AssertionError(f"chromium printed no DevTools address within {timeout_s:g} s")


async def _inspect(browser_ws: str, page: Path) -> PageCheck:
    import aiohttp

    port = browser_ws.split(":")[2].split("/")[0]
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/json/list") as reply:
            targets = json.loads(await reply.text())
        target = next(t for t in targets if t.get("type") == "page")
        async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            cdp = _Cdp(ws)
            for domain in ("Runtime", "Log", "Network", "Page"):
                await cdp.call(f"{domain}.enable")
            await cdp.call("Page.navigate", url=page.resolve().as_uri())
            await cdp.wait_for("Page.loadEventFired")
            images = (await cdp.call("Runtime.evaluate", expression=IMAGES, returnByValue=True))["result"]["value"]
            sections = await cdp.call(
                "Runtime.evaluate",
                expression="Array.from(document.querySelectorAll('section[id]')).map(s => s.id)",
                returnByValue=True,
            )
            shot = await cdp.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
            return PageCheck(
                cdp.errors, cdp.requests, images, sections["result"]["value"], base64.b64decode(shot["data"])
            )


class _Cdp:
    """Commands over one page's DevTools socket; console errors, exceptions and network requests collected."""

    def __init__(self, ws: Any) -> None:
        self.ws, self.next_id = ws, 0
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.events: list[str] = []

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        await self.ws.send_str(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = await self._receive()
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return dict(message.get("result", {}))

    async def wait_for(self, event: str) -> None:
        while event not in self.events:
            await self._receive()

    async def _receive(self) -> dict[str, Any]:
        message = json.loads((await asyncio.wait_for(self.ws.receive(), timeout=60)).data)
        method, params = message.get("method"), message.get("params", {})
        if method:
            self.events.append(method)
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.errors.append(json.dumps(params.get("args")))
        elif method == "Runtime.exceptionThrown":
            self.errors.append(json.dumps(params.get("exceptionDetails")))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            self.errors.append(params["entry"].get("text", ""))
        elif method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if not url.startswith(("data:", "file:")):
                self.requests.append(url)
        return dict(message)


def check_page(page: Path, expected: set[str], name: str) -> PageCheck:
    found = open_in_chromium(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"{name}.png"
    shot.write_bytes(found.screenshot)
    print(f"screenshot of {page.name}: {shot}")
    assert found.errors == [], found.errors
    assert found.requests == [], found.requests
    assert found.images, "the page shows no image"
    for image in found.images:
        assert image["complete"] and image["width"] > 100 and image["height"] > 100, image
        assert image["colours"] > 1, f"{image['alt']} is one colour"
    assert expected <= set(found.sections), (expected, found.sections)
    assert found.screenshot[:8] == b"\x89PNG\r\n\x1a\n" and len(found.screenshot) > 10_000
    return found


def _preview(nwb: Path, out: Path) -> Path:
    done = nwbconvert("preview", nwb, "-o", out)
    assert done.returncode == 0, done.stderr
    return out


def test_dandi_file_in_chromium(tmp_path: Path) -> None:
    page = _preview(realdata("nwb/sub_anm00239123_ses_20170627T093549_ecephys_and_ogen.nwb"), tmp_path / "d.html")
    found = check_page(page, {"session", "subject", "devices", "validation", "ecephys", "units", "intervals"}, "dandi")
    assert not {"ophys", "pose"} & set(found.sections)
    assert len(found.images) == 4  # probe map, raster, firing rates, timeline


def test_ndx_pose_file_in_chromium(tmp_path: Path) -> None:
    nwb = realdata("behavior/dlc/dlc2nwb/m3v1mp4DLC_resnet50_openfieldAug20shuffle1_30000.nwb")
    found = check_page(_preview(nwb, tmp_path / "pose.html"), {"session", "subject", "validation", "pose"}, "pose")
    assert {i["alt"] for i in found.images} == {"Pose: PoseEstimation", "Keypoint trajectories: PoseEstimation"}


def test_converted_spikeglx_and_suite2p_in_chromium(tmp_path: Path) -> None:
    sets = [a for kv in COMPLETE_METADATA for a in ("--set", kv)]
    ecephys = tmp_path / "sub-m1_ses-1_ecephys.nwb"
    done = nwbconvert("convert", SAMPLE_DATA / "spikeglx" / "Sample_g0", "-o", ecephys, *sets, "--timezone", "UTC")
    assert done.returncode == 0, done.stderr
    check_page(_preview(ecephys, tmp_path / "e.html"), {"provenance", "ecephys", "validation"}, "spikeglx")
    ophys = tmp_path / "suite2p.nwb"
    ophys_sets = [
        "ophys.indicator=GCaMP6f",
        "ophys.location=VISp",
        "ophys.excitation_lambda=920",
        "ophys.emission_lambda=510",
    ]
    source = realdata("ophys/suite2p/fissa_example") / "suite2p"
    done = nwbconvert(
        "convert", source, "-o", ophys, *sets, *[a for kv in ophys_sets for a in ("--set", kv)], "--timezone", "UTC"
    )
    assert done.returncode == 0, done.stderr
    found = check_page(_preview(ophys, tmp_path / "o.html"), {"provenance", "ophys"}, "suite2p")
    assert "ROIs: PlaneSegmentationPlane0" in {i["alt"] for i in found.images}


def test_the_checks_catch_a_broken_page(tmp_path: Path) -> None:
    """The oracle itself: a console error, a request to the network and a one-colour image are all seen."""
    import io

    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 2))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")  # a blank (white) figure
    blank = base64.b64encode(buffer.getvalue()).decode()
    page = tmp_path / "broken.html"
    page.write_text(
        f'<html><body><section id="x"><img alt="blank" src="data:image/png;base64,{blank}">'
        '<img alt="remote" src="http://127.0.0.1:9/none.png"></section>'
        "<script>console.error('boom')</script></body></html>"
    )
    found = open_in_chromium(page)
    assert any("boom" in e for e in found.errors)
    assert found.requests == ["http://127.0.0.1:9/none.png"]
    by_alt = {i["alt"]: i for i in found.images}
    assert by_alt["blank"]["colours"] == 1 and by_alt["remote"]["width"] == 0
    assert found.sections == ["x"]
