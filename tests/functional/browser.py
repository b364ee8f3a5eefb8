"""A real headless Chromium (Debian's `chromium`), driven over the DevTools protocol with aiohttp's WebSocket client.

textual-serve draws the app into an xterm.js canvas, so the page's DOM holds no text. Before the page's own scripts
run, a small script tees every binary WebSocket frame the page receives (the app's screen, which xterm.js writes to
the canvas) into ``window.__gateScreen``, decoded as UTF-8; the test reads it back with the escape sequences
removed, and takes a screenshot of what was drawn.
"""
from __future__ import annotations

import asyncio
import base64
import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")
TEE = """
(() => {
  const Real = window.WebSocket, decoder = new TextDecoder("utf-8");
  window.__gateScreen = "";
  window.WebSocket = function (...args) {
    const ws = new Real(...args);
    ws.addEventListener("message", (e) => {
      if (typeof e.data !== "string") window.__gateScreen += decoder.decode(new Uint8Array(e.data), {stream: true});
    });
    return ws;
  };
  window.WebSocket.prototype = Real.prototype;
})();
"""
ESCAPES = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]"  # CSI: colours, cursor moves
                     r"|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][A-Za-z0-9]|\x1b[=>78cDEHM]")


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def screen_text(raw: str) -> str:
    return ESCAPES.sub("", raw)


class Browser:
    """One headless Chromium with a fresh profile; ``open(url, wants)`` waits until they are on the app's screen."""

    def __init__(self, width: int = 1400, height: int = 900):
        self.profile = Path(tempfile.mkdtemp(prefix="gate-chromium-"))
        self.proc = subprocess.Popen([chromium(), *FLAGS, f"--user-data-dir={self.profile}",
                                      "--remote-debugging-port=0", f"--window-size={width},{height}", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.ws_url = None
        for line in self.proc.stderr:  # Chromium says where its DevTools listen, then keeps logging
            if "DevTools listening on" in line:
                self.ws_url = line.split("DevTools listening on", 1)[1].strip()
                break
        if self.ws_url is None:
            raise RuntimeError("chromium did not start its DevTools endpoint")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    def open(self, url: str, wants: tuple[str, ...], seconds: float = 60.0) -> tuple[str, bytes]:
        """The app's screen text once it contains every one of ``wants`` (or at the deadline), and a PNG
        screenshot."""
        return asyncio.run(self._open(url, wants, seconds))

    async def _open(self, url: str, wants: tuple[str, ...], seconds: float) -> tuple[str, bytes]:
        async with aiohttp.ClientSession() as http, http.ws_connect(self.ws_url, max_msg_size=0) as ws:
            ids = iter(range(1, 10**6))

            async def call(method: str, session: str | None = None, **params):
                n = next(ids)
                await ws.send_json({"id": n, "method": method, "params": params,
                                    **({"sessionId": session} if session else {})})
                async for msg in ws:
                    data = json.loads(msg.data)
                    if data.get("id") == n:
                        if "error" in data:
                            raise RuntimeError(f"{method}: {data['error']}")
                        return data["result"]
                raise RuntimeError("chromium closed the DevTools connection")

            target = (await call("Target.createTarget", url="about:blank"))["targetId"]
            session = (await call("Target.attachToTarget", targetId=target, flatten=True))["sessionId"]
            await call("Page.enable", session)
            await call("Page.addScriptToEvaluateOnNewDocument", session, source=TEE)
            await call("Page.navigate", session, url=url)
            deadline, text = time.monotonic() + seconds, ""
            while time.monotonic() < deadline:
                got = await call("Runtime.evaluate", session, expression="window.__gateScreen || ''")
                text = screen_text(got["result"].get("value", ""))
                if all(w in text for w in wants):
                    break
                await asyncio.sleep(0.2)
            shot = await call("Page.captureScreenshot", session, format="png")
            return text, base64.b64decode(shot["data"])
