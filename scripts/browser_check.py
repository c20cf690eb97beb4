#!/usr/bin/env python3
"""Open HTML files in headless Chromium, offline, and check that every plotly figure rendered.

For each file: Chromium loads it with the network cut off (a dead proxy and a resolver that
finds nothing), lets the page run (virtual time budget), and dumps the DOM. The check then
requires, for every plotly figure div in the page, an SVG `main-svg` and data drawn in it
(a line path `js-line` with coordinates, marker points `point`, or histogram bars: paths in a
`<g class="point">`). It fails loudly, with a
per-figure account, when a figure is missing, empty or not rendered, when fewer figures than
--min-figures rendered, when a --require substring is absent from the rendered DOM, when a
--forbid substring is still in it (e.g. a fallback text the page's scripts remove), or (unless
--allow-remote-scripts) when the page source loads a script from the network.

Usage: browser_check.py [--min-figures N] [--require TEXT]... [--forbid TEXT]...
                        [--screenshot DIR] FILE.html...
Exit status: 0 all checks passed, 1 a check failed, 2 usage or environment error.
"""

import argparse
import html.parser
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
    # Offline: every http(s) request goes to a closed local port, and no name resolves.
    "--proxy-server=http://127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND",
]


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def run_chromium(chromium, args, timeout):
    with tempfile.TemporaryDirectory(prefix="nmf-browser-check-") as profile:
        cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return proc


class FigureScan(html.parser.HTMLParser):
    """Collect, per plotly figure div, its SVGs and the data paths inside."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.figures = []  # dicts: id, svgs, lines, points, line_coords
        self.stack = []  # (tag, figure index or None, opens a data trace group, is a bar's <g>)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        current = next((f for _, f, _, _ in reversed(self.stack) if f is not None), None)
        # Data are drawn inside <g class="trace …"> groups of the plot area; the legend's
        # sample lines sit in <g class="traces"> and do not count.
        in_trace = any(t for _, _, t, _ in self.stack)
        # A bar (histogram) is a path inside <g class="point"> of a trace group.
        in_bar = bool(self.stack) and self.stack[-1][3]
        fig = None
        if tag == "div" and "plotly-graph-div" in classes:
            self.figures.append(
                {"id": a.get("id", "?"), "svgs": 0, "lines": 0, "points": 0, "coords": 0}
            )
            fig = len(self.figures) - 1
            current = fig
        if current is not None:
            f = self.figures[current]
            if tag == "svg" and "main-svg" in classes:
                f["svgs"] += 1
            if tag == "path" and in_trace:
                d = a.get("d") or ""
                if "js-line" in classes and len(d) > 2:
                    f["lines"] += 1
                    f["coords"] += len(re.findall(r"[ML]", d))
                if ("point" in classes or in_bar) and len(d) > 2:
                    f["points"] += 1
        if tag not in VOID:
            self.stack.append(
                (tag, fig, tag == "g" and "trace" in classes, tag == "g" and "point" in classes)
            )

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


def remote_scripts(source):
    tags = re.findall(r"<script\b[^>]*>", source, flags=re.IGNORECASE)
    return [t for t in tags if re.search(r"\bsrc\s*=\s*[\"']?\s*(https?:)?//", t, re.IGNORECASE)]


def check_file(chromium, path, args):
    problems = []
    source = path.read_text(encoding="utf-8", errors="replace")
    if not args.allow_remote_scripts:
        for tag in remote_scripts(source):
            problems.append(f"the page loads a script from the network: {tag[:160]}")
    url = path.resolve().as_uri()
    proc = run_chromium(
        chromium,
        ["--enable-logging=stderr", "--v=0",
         f"--virtual-time-budget={args.budget_ms}", "--dump-dom", url],
        args.timeout,
    )
    dom = proc.stdout
    if proc.returncode != 0 or not dom.strip():
        problems.append(f"chromium exited with {proc.returncode} and {len(dom)} bytes of DOM; "
                        f"stderr tail:\n{proc.stderr[-2000:]}")
        return problems, []
    console = [l for l in proc.stderr.splitlines() if "CONSOLE" in l or "Uncaught" in l]
    scan = FigureScan()
    scan.feed(dom)
    figs = scan.figures
    print(f"  {path}: {len(source) / 1e6:.1f} MB source, {len(dom) / 1e6:.1f} MB rendered DOM, "
          f"{len(figs)} plotly figure div(s)")
    for f in figs:
        ok = f["svgs"] > 0 and (f["lines"] > 0 or f["points"] > 0)
        print(f"    {'ok ' if ok else 'BAD'} #{f['id']}: {f['svgs']} main-svg, {f['lines']} data "
              f"lines ({f['coords']} vertices), {f['points']} marker points or bars")
        if not ok:
            problems.append(f"figure #{f['id']} did not render data (no main-svg with a line or "
                            f"points)")
    rendered = sum(1 for f in figs if f["svgs"] > 0 and (f["lines"] > 0 or f["points"] > 0))
    if rendered < args.min_figures:
        problems.append(f"{rendered} figure(s) rendered, at least {args.min_figures} required")
    for text in args.require:
        if text not in dom:
            problems.append(f"required text not in the rendered page: {text!r}")
    for text in args.forbid:
        if text in dom:
            problems.append(f"forbidden text in the rendered page ({dom.count(text)} times): "
                            f"{text!r}")
    for line in console[:20]:
        print(f"    console: {line[:300]}")
    if any("plotly.js did not load" in l or "Plotly is not defined" in l for l in console):
        problems.append("the console says plotly.js did not load")
    if args.screenshot:
        out = Path(args.screenshot) / (path.stem + ".png")
        out.parent.mkdir(parents=True, exist_ok=True)
        shot = run_chromium(
            chromium,
            [f"--virtual-time-budget={args.budget_ms}", "--hide-scrollbars",
             "--window-size=1400,2400", f"--screenshot={out}", url],
            args.timeout,
        )
        print(f"    screenshot: {out} ({'ok' if out.exists() else 'FAILED: ' + shot.stderr[-300:]})")
    return problems, figs


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--min-figures", type=int, default=1,
                   help="figures that must render in each file (default 1)")
    p.add_argument("--require", action="append", default=[],
                   help="text that must appear in each rendered page (repeatable)")
    p.add_argument("--forbid", action="append", default=[],
                   help="text that must not appear in any rendered page, e.g. a fallback that "
                        "the page's scripts remove (repeatable)")
    p.add_argument("--allow-remote-scripts", action="store_true",
                   help="do not fail on <script src=http…> in the page source")
    p.add_argument("--budget-ms", type=int, default=15000, help="virtual time budget")
    p.add_argument("--timeout", type=int, default=300, help="seconds per Chromium run")
    p.add_argument("--screenshot", metavar="DIR", help="also save a PNG of each page here")
    args = p.parse_args()

    chromium = find_chromium()
    if not chromium:
        print("browser-check: no chromium on PATH (apt-get install -y chromium)", file=sys.stderr)
        return 2
    failed = False
    for path in args.files:
        if not path.is_file():
            print(f"browser-check: FAIL {path}: no such file", file=sys.stderr)
            failed = True
            continue
        problems, _ = check_file(chromium, path, args)
        for pr in problems:
            print(f"browser-check: FAIL {path}: {pr}", file=sys.stderr)
        failed |= bool(problems)
        if not problems:
            print(f"browser-check: ok {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
