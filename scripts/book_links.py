#!/usr/bin/env python3
"""Check the built book: every internal link resolves, and nothing is loaded from the network.

For every HTML file under the book directory:
- each relative `href`/`src` must name an existing file (query strings ignored), and a
  `#fragment` must name an `id` (or `name`) in the target page;
- no `<script src>`, `<link href>`, `<img src>`, `<iframe src>`, `<source src>`, `<audio>`,
  `<video>`, `<object data>` or `<embed src>` may point off the machine (`http:`, `https:`,
  protocol-relative `//`);
- no CSS file shipped with the book may `@import` or `url()` anything off the machine.
Plain `<a href="https://…">` links to the outside world are allowed (following one is the
reader's choice, not a request made by reading) and are listed.

Usage: book_links.py BOOK_DIR     Exit status: 0 ok, 1 a problem was found, 2 usage error.
"""

import html.parser
import re
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

REMOTE = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
# (tag, attribute) pairs that make the browser fetch something when the page is read.
LOADING = {
    ("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src"), ("source", "src"),
    ("audio", "src"), ("video", "src"), ("video", "poster"), ("object", "data"), ("embed", "src"),
    ("input", "src"), ("track", "src"),
}


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs = []  # (tag, attr, value, line)
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name"):
                self.ids.add(value)
            if name in ("href", "src", "data", "poster"):
                self.refs.append((tag, name, value, self.getpos()[0]))

    handle_startendtag = handle_starttag


def parse(path, cache):
    if path not in cache:
        p = Page()
        p.feed(path.read_text(encoding="utf-8", errors="replace"))
        cache[path] = p
    return cache[path]


def main():
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(sys.argv[1]).resolve()
    pages = sorted(root.rglob("*.html"))
    if not pages:
        print(f"book_links: no HTML under {root}", file=sys.stderr)
        return 1
    cache = {}
    problems = []
    external = set()
    checked = 0
    skipped = []
    for page in pages:
        doc = parse(page, cache)
        rel = page.relative_to(root)
        if any(tag == "base" for tag, _, _, _ in doc.refs):
            # mdBook's 404.html sets <base href="/"> for a web server; its links do not
            # resolve from the file system, and nothing links to it.
            skipped.append(str(rel))
            continue
        for tag, attr, value, line in doc.refs:
            where = f"{rel}:{line} <{tag} {attr}=\"{value[:100]}\">"
            if REMOTE.match(value):
                if (tag, attr) in LOADING:
                    problems.append(f"{where}: loads a resource from the network")
                else:
                    external.add(value)
                continue
            parts = urlsplit(value)
            if parts.scheme in ("mailto", "data", "javascript", "blob", "about"):
                continue
            if parts.scheme:
                problems.append(f"{where}: unexpected URL scheme {parts.scheme!r}")
                continue
            checked += 1
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if root not in target.parents and target != root:
                problems.append(f"{where}: points outside the book")
                continue
            if not target.is_file():
                problems.append(f"{where}: no such file {target.relative_to(root)}")
                continue
            if parts.fragment and target.suffix == ".html":
                if unquote(parts.fragment) not in parse(target, cache).ids:
                    problems.append(f"{where}: no id {parts.fragment!r} in {target.relative_to(root)}")
    for css in sorted(root.rglob("*.css")):
        text = css.read_text(encoding="utf-8", errors="replace")
        for m in re.finditer(r"(?:url\(\s*['\"]?|@import\s+['\"])\s*((?:https?:)?//[^'\")\s]+)", text):
            problems.append(f"{css.relative_to(root)}: refers to {m.group(1)} (off the machine)")
    for p in problems:
        print(f"book_links: FAIL {p}", file=sys.stderr)
    if skipped:
        print(f"book_links: skipped (they set <base>, for a web server): {', '.join(skipped)}")
    print(f"book_links: {len(pages)} pages, {checked} internal links and resources checked, "
          f"{len(external)} outside links (not followed), {len(problems)} problem(s)")
    for url in sorted(external):
        print(f"  outside link: {url}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
