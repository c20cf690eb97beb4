#!/usr/bin/env python3
"""Check every {{#include}} of the book before mdBook runs.

mdBook 0.5 logs an unreadable include file as an ERROR but still exits 0, and an anchor that
does not exist silently includes nothing. This check makes both fatal. For each
`{{#include PATH}}`, `{{#include PATH:ANCHOR}}`, `{{#include PATH:START:END}}` (and the same
for `#rustdoc_include`) in the chapters listed under the source directory:
- PATH, relative to the chapter, must be a readable file;
- a named ANCHOR must open (`ANCHOR: name`) and close (`ANCHOR_END: name`) in that file, in
  that order, around at least one line;
- a line range must lie inside the file.
Included markdown is checked the same way (mdBook expands includes recursively).

Usage: book_includes.py SRC_DIR      Exit status: 0 ok, 1 a problem was found, 2 usage error.
"""

import re
import sys
from pathlib import Path

LINK = re.compile(r"\{\{\s*#(include|rustdoc_include)\s+([^}\s]+)\s*\}\}")


def anchor_lines(text, name):
    start = re.compile(r"ANCHOR:\s*" + re.escape(name) + r"(?![\w-])")
    end = re.compile(r"ANCHOR_END:\s*" + re.escape(name) + r"(?![\w-])")
    lines = text.split("\n")
    s = next((i for i, l in enumerate(lines) if start.search(l)), None)
    if s is None:
        return None, "no `ANCHOR: {}`".format(name)
    e = next((i for i in range(s + 1, len(lines)) if end.search(lines[i])), None)
    if e is None:
        return None, "no `ANCHOR_END: {}` after its ANCHOR".format(name)
    body = [l for l in lines[s + 1:e] if "ANCHOR" not in l]
    if not any(l.strip() for l in body):
        return None, "anchor {} encloses nothing".format(name)
    return body, None


def check(md, seen, problems, counts):
    if md in seen:
        return
    seen.add(md)
    text = md.read_text(encoding="utf-8")
    for m in LINK.finditer(text):
        counts[0] += 1
        arg = m.group(2)
        parts = arg.split(":")
        path = (md.parent / parts[0]).resolve()
        where = f"{md}: {m.group(0)}"
        if not path.is_file():
            problems.append(f"{where}: no such file {path}")
            continue
        target = path.read_text(encoding="utf-8", errors="replace")
        if len(parts) == 2 and parts[1] and not parts[1].isdigit():
            _, err = anchor_lines(target, parts[1])
            if err:
                problems.append(f"{where}: {err}")
        elif len(parts) >= 2:
            n = target.count("\n") + 1
            nums = [int(p) for p in parts[1:] if p.isdigit()]
            if any(x < 1 or x > n for x in nums):
                problems.append(f"{where}: line range outside the file's {n} lines")
        if path.suffix == ".md":
            check(path, seen, problems, counts)


def main():
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        print(__doc__, file=sys.stderr)
        return 2
    src = Path(sys.argv[1]).resolve()
    summary = (src / "SUMMARY.md").read_text(encoding="utf-8")
    chapters = [src / p for p in re.findall(r"\]\(([^)#]+\.md)\)", summary)]
    problems, seen, counts = [], set(), [0]
    for ch in chapters:
        if not ch.is_file():
            problems.append(f"SUMMARY.md lists {ch.name}, which does not exist")
            continue
        check(ch, seen, problems, counts)
    for p in problems:
        print(f"book_includes: FAIL {p}", file=sys.stderr)
    print(f"book_includes: {len(chapters)} chapters, {counts[0]} includes checked, "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
