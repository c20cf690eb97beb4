#!/usr/bin/env python3
"""Open the built book in headless Chromium, offline, and check what a reader would see.

For each chapter page that holds a figure (or the pages named with --page):
1. figures: scripts/browser_check.py (shared with the notebooks' check) loads the page with
   the network cut off and requires every plotly figure to have drawn an SVG with data;
2. math and network: a second Chromium run records a NetLog and dumps the rendered DOM, and
   this script requires
   - typeset mathematics: KaTeX output (`class="katex"`) present, and no TeX source left in
     the visible text (no `$$`, no `$…$` pair, no `\\frac`, `\\langle`, … outside the KaTeX
     markup, code listings excepted);
   - no request off the machine: the page makes no network request at all (the NetLog lists
     every request that goes through the network stack; local files do not). Chromium's own
     background services (component update, network time, sign-in) still try to phone home
     despite the flags below; they are told apart by their initiator ("not an origin"),
     reported, and go nowhere: the proxy is a closed local port and no host name resolves.
Before that (and alone with --static, which needs no browser) every page of the book is
scanned as built for TeX source left outside the KaTeX markup.
Chromium runs with --headless --no-sandbox --disable-gpu --disable-background-networking
--disable-component-update --disable-sync --no-first-run and a fresh --user-data-dir.

Usage: book_check.py BOOK_DIR [--static] [--page NAME.html]... [--screenshot DIR]
Exit status: 0 all checks passed, 1 a check failed, 2 usage or environment error.
"""

import argparse
import html.parser
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The same Chromium flags as the shared figure check (offline: closed proxy, no name resolves).
sys.path.insert(0, str(HERE))
from browser_check import find_chromium, run_chromium  # noqa: E402
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:", "chrome:", "chrome-untrusted:")
# TeX that must not survive into the visible text of a page.
RAW_TEX = re.compile(
    r"\$\$|\\(?:frac|tfrac|langle|rangle|sum|mathbb|operatorname|lVert|rVert|oslash|circ|"
    r"succeq|preceq|lambda|theta|sigma|gamma|Delta|nabla|ip|Diag|lmin|lmax|fl|begin|end|left|right)\b"
)
INLINE_PAIR = re.compile(r"\$[^$\s][^$\n]{0,200}\$")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
SKIP_TAGS = {"script", "style", "pre", "code", "noscript", "template"}


class VisibleText(html.parser.HTMLParser):
    """Text outside scripts, styles, code listings and KaTeX output; counts KaTeX elements."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []  # (tag, skipping)
        self.chunks = []
        self.katex = 0

    def skipping(self):
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if "katex" in classes:
            self.katex += 1
        skip = self.skipping() or tag in SKIP_TAGS or any(c.startswith("katex") for c in classes)
        if tag not in VOID:
            self.stack.append((tag, skip))

    def handle_startendtag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if "katex" in classes:
            self.katex += 1

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if not self.skipping():
            self.chunks.append(data)


def requests_in_netlog(path):
    """Every network-stack request in the NetLog, as (url, initiator, traffic annotation).

    Loads of file:// resources do not go through the network stack and do not appear; any
    http(s) or ws(s) request does, whoever made it. A request made by a page carries the page's
    origin as its initiator (a file:// page has the opaque origin "null"); Chromium's own
    background services (update, network time, sign-in) log the initiator "not an origin".
    Returns (requests, complete) where complete says whether the log parsed as a whole.
    """
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        log = json.loads(text)
    except json.JSONDecodeError:
        # A NetLog cut short (browser killed) lacks its closing brackets: keep every URL.
        urls = set(re.findall(r'"url"\s*:\s*"([^"]+)"', text))
        return [(u, "unknown", None) for u in sorted(urls)], False
    names = {v: k for k, v in log.get("constants", {}).get("logEventTypes", {}).items()}
    alive = {}  # source id -> traffic annotation
    out = []
    for e in log.get("events", []):
        kind = names.get(e.get("type"))
        params = e.get("params") or {}
        sid = (e.get("source") or {}).get("id")
        if kind == "REQUEST_ALIVE":
            alive[sid] = params.get("traffic_annotation")
        elif kind == "URL_REQUEST_START_JOB" and "url" in params:
            out.append((params["url"], params.get("initiator", "unknown"), alive.get(sid)))
    return out, True


def check_page(chromium, page, args):
    problems = []
    source = page.read_text(encoding="utf-8", errors="replace")
    figures = len(re.findall(r'class="plotly-graph-div"', source))
    # 1. figures, with the shared checker.
    shared = HERE / "browser_check.py"
    if figures:
        cmd = [sys.executable, str(shared), "--min-figures", str(figures)]
        if args.screenshot:
            cmd += ["--screenshot", args.screenshot]
        proc = subprocess.run(cmd + [str(page)], capture_output=True, text=True)
        sys.stdout.write(proc.stdout)
        if proc.returncode != 0:
            problems.append(f"figures did not all render:\n{proc.stderr.strip()}")
    # 2. math and network.
    with tempfile.TemporaryDirectory(prefix="nmf-book-check-") as tmp:
        netlog = Path(tmp) / "netlog.json"
        proc = run_chromium(
            chromium,
            [f"--log-net-log={netlog}", "--net-log-capture-mode=Default",
             f"--virtual-time-budget={args.budget_ms}", "--dump-dom", page.resolve().as_uri()],
            args.timeout,
        )
        dom = proc.stdout
        if proc.returncode != 0 or not dom.strip():
            return problems + [f"chromium exited with {proc.returncode}: {proc.stderr[-1500:]}"]
        requests, complete = requests_in_netlog(netlog) if netlog.exists() else ([], False)
    if not complete:
        problems.append("the NetLog is missing or incomplete; cannot tell what was requested")
    by_page = [(u, i) for u, i, _ in requests if i != "not an origin"]
    background = [u for u, i, _ in requests if i == "not an origin"]
    for u, i in by_page:
        if not u.startswith(LOCAL_SCHEMES):
            problems.append(f"the page requested {u} (initiator {i})")
    text = VisibleText()
    text.feed(dom)
    visible = " ".join(text.chunks)
    raw = sorted(set(m.group(0) for m in RAW_TEX.finditer(visible)))
    pairs = sorted(set(m.group(0) for m in INLINE_PAIR.finditer(visible)))
    if text.katex == 0:
        problems.append("no KaTeX output (class=\"katex\") in the rendered page")
    if raw or pairs:
        problems.append(f"TeX source visible in the text: {(raw + pairs)[:10]}")
    svgs = dom.count('class="main-svg"')
    print(f"  {page.name}: {text.katex} typeset formulas, {figures} figure(s), {svgs} main-svg "
          f"in the DOM, raw TeX visible: {len(raw) + len(pairs)}; network requests by the page: "
          f"{len(by_page)}; by Chromium's own background services: {len(background)} "
          f"(sent to the dead proxy 127.0.0.1:9, none left the machine)")
    lines = len(re.findall(r'class="js-line"[^>]*d="M', dom)) + len(
        re.findall(r'd="M[^"]*"[^>]*class="js-line"', dom))
    # Histogram bars: a path with coordinates inside <g class="point"> of a bar trace.
    bars = len(re.findall(r'<g class="point"><path d="M', dom))
    if figures and (svgs < figures or lines + bars == 0):
        problems.append(f"{svgs} main-svg element(s), {lines} data line(s) and {bars} bar(s) "
                        f"for {figures} figure(s)")
    return problems


def static_pass(book):
    """Every page as built (the math is typeset at build time, so the HTML is what the reader
    sees): no TeX source left outside the KaTeX markup and code listings. True if one is."""
    failed = False
    pages = sorted(book.rglob("*.html"))
    for html_file in pages:
        scan = VisibleText()
        scan.feed(html_file.read_text(encoding="utf-8", errors="replace"))
        visible = " ".join(scan.chunks)
        left = sorted(set(m.group(0) for m in RAW_TEX.finditer(visible))
                      | set(m.group(0) for m in INLINE_PAIR.finditer(visible)))
        if left:
            print(f"book_check: FAIL {html_file.name}: TeX source in the text: {left[:10]}",
                  file=sys.stderr)
            failed = True
    print(f"book_check: static pass over {len(pages)} pages: "
          f"{'TeX source found' if failed else 'no TeX source left in the text'}")
    return failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("book", type=Path)
    ap.add_argument("--page", action="append", default=[],
                    help="page to check (default: every chapter page with a figure)")
    ap.add_argument("--screenshot", metavar="DIR", help="save a PNG of each page here")
    ap.add_argument("--budget-ms", type=int, default=15000, help="virtual time budget")
    ap.add_argument("--timeout", type=int, default=300, help="seconds per Chromium run")
    ap.add_argument("--static", action="store_true",
                    help="only the static pass over every page (no browser)")
    args = ap.parse_args()
    if args.static:
        return 1 if static_pass(args.book) else 0
    chromium = find_chromium()
    if not chromium:
        print("book_check: no chromium on PATH (apt-get install -y chromium)", file=sys.stderr)
        return 2
    if not args.book.is_dir():
        print(f"book_check: {args.book} is not a directory", file=sys.stderr)
        return 2
    if args.page:
        pages = [args.book / p for p in args.page]
    else:
        pages = sorted(p for p in args.book.glob("*.html")
                       if p.name != "print.html"
                       and 'class="plotly-graph-div"' in p.read_text(errors="replace"))
    if not pages:
        print("book_check: no page with a figure to check", file=sys.stderr)
        return 1
    failed = static_pass(args.book)
    for page in pages:
        if not page.is_file():
            print(f"book_check: FAIL {page}: no such page", file=sys.stderr)
            failed = True
            continue
        problems = check_page(chromium, page, args)
        for p in problems:
            print(f"book_check: FAIL {page.name}: {p}", file=sys.stderr)
        if not problems:
            print(f"book_check: ok {page.name}")
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
