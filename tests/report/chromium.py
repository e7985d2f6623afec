"""A headless Chromium driven over the DevTools protocol, for checking pages as a browser shows them.

The system's ``chromium`` (Debian's package) is started with ``--remote-debugging-port=0``; the port
it picks is read from ``DevToolsActivePort`` in its profile folder, and the protocol is spoken over
a websocket (``websocket-client``) on 127.0.0.1. Host names resolve to nothing and background
services are off, so the browser reaches no network: a page that asks for anything outside itself
shows up as a request, and a failed one.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

#: Where a Chromium may be found, the first that exists wins (``LAWFIND_CHROMIUM`` names another).
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """The Chromium executable, or ``None``."""
    named = os.environ.get("LAWFIND_CHROMIUM")
    if named:
        return shutil.which(named) or (named if Path(named).is_file() else None)
    return next((p for p in map(shutil.which, CANDIDATES) if p), None)


@dataclass
class PageLoad:
    """What loading a page showed: every request's URL, failed requests, console errors, thrown
    exceptions and browser log errors, the result of a script, and a screenshot (PNG bytes)."""

    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    log_errors: list[str] = field(default_factory=list)
    result: object = None
    screenshot: bytes = b""


class Chromium:
    """``with Chromium(exe, profile) as browser: load = browser.load(url, script)``."""

    def __init__(self, exe: str, profile: Path, width: int = 1280, height: int = 900, timeout: float = 60.0) -> None:
        self.exe, self.profile, self.size, self.timeout = exe, Path(profile), (width, height), timeout
        self._id = 0

    def __enter__(self) -> Chromium:
        import websocket  # websocket-client, from the test extra

        args = [self.exe, "--headless=new", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
                f"--user-data-dir={self.profile}", "--no-first-run", "--no-default-browser-check", "--disable-gpu",
                "--disable-extensions", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-default-apps", "--disable-breakpad", "--mute-audio",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", f"--window-size={self.size[0]},{self.size[1]}",
                "about:blank"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium's sandbox refuses to run as root (CI runs as root)
        self.profile.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while not (port_file.is_file() and len(port_file.read_text().splitlines()) >= 2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                raise RuntimeError(f"Chromium did not start (exit status {self.proc.poll()})")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}{path}", timeout=self.timeout,
                                              suppress_origin=True)
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def _send(self, method: str, params: dict | None = None, session: str | None = None,
              events: list | None = None) -> dict:
        """Send a command and return its result; events that arrive meanwhile go to ``events``."""
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if events is not None and "method" in reply:
                events.append(reply)

    def load(self, url: str, script: str) -> PageLoad:
        """Open ``url`` in a new tab, wait for its load event and for its images to decode, run
        ``script`` (an expression whose value is JSON-serialisable), and take a full-page screenshot."""
        events: list[dict] = []
        target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self._send(f"{domain}.enable", session=session, events=events)
        self._send("Emulation.setDeviceMetricsOverride", {"width": self.size[0], "height": self.size[1],
                                                          "deviceScaleFactor": 1, "mobile": False}, session)
        self._send("Page.navigate", {"url": url}, session, events)
        deadline = time.monotonic() + self.timeout
        while not any(e["method"] == "Page.loadEventFired" for e in events):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not finish loading in {self.timeout:.0f} s")
            events.append(json.loads(self.ws.recv()))
        self._evaluate("Promise.allSettled([...document.images].map(i => i.decode()))", session, events)
        out = PageLoad(result=self._evaluate(script, session, events))
        metrics = self._send("Page.getLayoutMetrics", session=session, events=events)["cssContentSize"]
        shot = self._send("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": metrics["width"], "height": metrics["height"], "scale": 1}},
            session, events)
        out.screenshot = base64.b64decode(shot["data"])
        for e in events:
            p = e.get("params", {})
            if e["method"] == "Network.requestWillBeSent":
                out.requests.append(p["request"]["url"])
            elif e["method"] == "Network.loadingFailed":
                out.failed.append(f"{p.get('type')}: {p.get('errorText')}")
            elif e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.console_errors.append(" ".join(str(a.get("value", a.get("description"))) for a in p["args"]))
            elif e["method"] == "Runtime.exceptionThrown":
                out.exceptions.append(p["exceptionDetails"].get("text", ""))
            elif e["method"] == "Log.entryAdded" and p["entry"]["level"] == "error":
                out.log_errors.append(f"{p['entry'].get('url', '')}: {p['entry']['text']}")
        self._send("Target.closeTarget", {"targetId": target})
        return out

    def _evaluate(self, expression: str, session: str, events: list) -> object:
        res = self._send("Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True},
                         session, events)
        if "exceptionDetails" in res:
            raise RuntimeError(f"the script failed: {res['exceptionDetails']}")
        return res["result"].get("value")
