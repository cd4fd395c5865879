"""Screenshots of JupyterLab as `make lab` opens it (a dev-only check; not part of the tests).

Drives a headless Chromium over the DevTools protocol (``websocket-client``, a dependency of
jupyter_server) against a running ``make lab`` server and saves ``docs/img/lab-*.png``:

1. ``lab-start-here.png``: the start-here notebook as JupyterLab opens it (as a notebook);
2. ``lab-launcher.png``: the launcher, whose kernels are only "copeval (.venv)";
3. ``lab-site-report.png``: ``site_report.py`` opened by a double-click in the file browser,
   after Run ▸ Run All Cells.

Usage (see docs/lab.md for the Chromium from Debian's packages, without root)::

    make lab LAB_ARGS="--no-browser --port 8899 --IdentityProvider.token=x" &
    CHROMIUM=/tmp/chromium/root/usr/lib/chromium/chromium-headless-shell \\
        .venv/bin/python docs/img/lab_screenshots.py --url http://127.0.0.1:8899 --token x
"""

from __future__ import annotations

import argparse
import base64
import io
import itertools
import json
import os
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import websocket

HERE = Path(__file__).resolve().parent


class Page:
    """One Chromium tab driven over the DevTools protocol."""

    def __init__(self, ws_url: str):
        self.ws = websocket.create_connection(ws_url, timeout=120)
        self.ids = itertools.count(1)

    def call(self, method: str, **params):
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def js(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 90, what: str = ""):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.js(expression):
                return
            time.sleep(0.5)
        raise TimeoutError(f"timed out waiting for {what or expression}")

    def click(self, selector: str, *, count: int = 1, text: str | None = None):
        """Click the centre of the first element matching ``selector`` (and ``text``)."""
        find = (
            f"[...document.querySelectorAll({json.dumps(selector)})]"
            f".filter(e => {json.dumps(text)} === null || e.textContent.trim() === {json.dumps(text)})[0]"
        )
        box = self.js(
            f"(() => {{ const e = {find}; if (!e) return null; e.scrollIntoViewIfNeeded();"
            " const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        if box is None:
            raise LookupError(f"nothing matches {selector} {text or ''}")
        x, y = box
        self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        for n in range(1, count + 1):
            for kind in ("mousePressed", "mouseReleased"):
                self.call(
                    "Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=n
                )

    def shot(self, path: Path):
        """Save a screenshot as a small PNG (a 256-colour palette is plenty for a UI)."""
        from PIL import Image

        data = self.call("Page.captureScreenshot", format="png")["data"]
        image = Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
        print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")


def run_all_and_wait(page: Page, timeout: float = 240):
    page.click(".lm-MenuBar-itemLabel", text="Run")
    item = '.lm-Menu-item[data-command="runmenu:run-all"]'
    page.wait_for(f"!!document.querySelector({json.dumps(item)})", 10)
    page.click(item)
    # every code cell of the visible notebook has run: an execution count, no "[*]"
    page.wait_for(
        "(() => { const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');"
        " const p = [...nb.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(e => e.textContent);"
        " return p.length > 0 && !p.some(t => t.includes('*'))"
        " && (p.every(t => /\\[\\d+\\]/.test(t)) || !!nb.querySelector('.jp-OutputArea-output[data-mime-type=\"application/vnd.jupyter.stderr\"]')); })()",
        timeout,
        "Run All to finish",
    )


def scroll_to(page: Page, heading: str):
    """Scroll the visible notebook to the first heading that contains ``heading``."""
    page.js(
        "[...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) :is(h1, h2, h3)')]"
        f".find(e => e.textContent.includes({json.dumps(heading)}))?.scrollIntoView()"
    )
    time.sleep(1)


def error_outputs(page: Page) -> int:
    """Error (traceback) outputs in the visible notebook."""
    return page.js(
        "document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden)"
        ' .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]\').length'
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8899")
    parser.add_argument("--token", default="x")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "chromium"))
    parser.add_argument("--scroll", default="", help="text of the report heading to scroll to")
    args = parser.parse_args()

    profile = tempfile.mkdtemp(prefix="lab-shots-")
    browser = subprocess.Popen(
        [
            args.chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1400,900",
            "--remote-debugging-port=9333",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(60):
            try:
                with urllib.request.urlopen("http://127.0.0.1:9333/json/list") as r:
                    tabs = [t for t in json.load(r) if t["type"] == "page"]
                if tabs:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        page = Page(tabs[0]["webSocketDebuggerUrl"])
        page.call("Page.enable")
        page.call(
            "Emulation.setDeviceMetricsOverride",
            width=1400,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )

        # 1. make lab opens start_here.py: as a notebook, with the copeval kernel
        page.call("Page.navigate", url=f"{args.url}/lab/tree/start_here.py?token={args.token}")
        page.wait_for(
            "!!document.querySelector('.jp-NotebookPanel .jp-Notebook .jp-Cell')",
            90,
            "the start-here notebook",
        )
        page.wait_for(
            "[...document.querySelectorAll('.jp-Toolbar-kernelName')]"
            ".some(e => e.textContent.includes('copeval'))",
            60,
            "the copeval kernel",
        )
        page.wait_for(
            "document.querySelector('#jp-main-statusbar').textContent.includes('| Idle')",
            60,
            "the kernel to be idle",
        )
        time.sleep(2)
        page.shot(args.out / "lab-start-here.png")
        run_all_and_wait(page, 120)
        scroll_to(page, "One site")
        page.shot(args.out / "lab-start-here-ratings.png")
        print(f"error outputs in start_here: {error_outputs(page)}")

        # a link of the start-here notebook opens a tutorial as a notebook, not as text
        scroll_to(page, "Where next")
        page.click(
            ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-RenderedMarkdown a",
            text="Tutorial 1: load a project and check the reliability of its coding",
        )
        page.wait_for(
            "[...document.querySelectorAll('.lm-TabBar-tabLabel')]"
            ".some(e => e.textContent === 'tutorial_1_load_and_reliability.py')",
            30,
            "the tutorial's tab",
        )
        time.sleep(2)
        kind = page.js(
            "document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook')"
            " ? 'notebook' : 'not a notebook'"
        )
        print(f"the link to tutorial 1 opened it as: {kind}")

        # 2. the launcher: the "+" button of the file browser
        page.click('.jp-FileBrowser [data-command="launcher:create"]')
        page.wait_for("!!document.querySelector('.jp-LauncherCard')", 30, "the launcher")
        time.sleep(1)
        page.shot(args.out / "lab-launcher.png")

        # 3. a double-click on site_report.py in the file browser, then Run All
        page.click(".jp-DirListing-item[title*='site_report.py'] .jp-DirListing-itemText", count=2)
        page.wait_for(
            "[...document.querySelectorAll('.lm-TabBar-tabLabel')]"
            ".some(e => e.textContent === 'site_report.py')"
            " && !!document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell')",
            60,
            "site_report.py opened as a notebook",
        )
        time.sleep(3)  # the kernel starts
        run_all_and_wait(page)
        time.sleep(2)
        if args.scroll:
            scroll_to(page, args.scroll)
        page.shot(args.out / "lab-site-report.png")
        print(f"error outputs in the report notebook: {error_outputs(page)}")
    finally:
        browser.terminate()
        browser.wait(10)


if __name__ == "__main__":
    main()
