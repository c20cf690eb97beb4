#!/usr/bin/env python3
"""Keep notebooks/*.ipynb committed without outputs (standard library only).

    nbstrip.py                  git clean filter: notebook JSON on stdin, stripped on stdout
    nbstrip.py --install        configure the filter in this clone's .git/config (idempotent)
    nbstrip.py --check [NB...]  fail if HEAD or the index holds a notebook with outputs or
                                execution counts; only a note for the working tree

Stripping empties every code cell's outputs, sets its execution_count to null and drops the
timing metadata ("execution") that some front ends add; everything else is kept, written as
nbformat writes it (indent 1, sorted keys, UTF-8, final newline), so that a stripped notebook
is byte for byte what is committed. `.gitattributes` maps `notebooks/*.ipynb` to this filter
(`filter=nbstrip`); git runs it on `git add`, `git status` and `git diff`, so outputs that
JupyterLab autosaves into the working tree are neither shown as changes nor committed. A fresh
clone has no filter configured until `--install` runs (scripts/notebooks.sh and `just lab` run
it); `--check` in `just lint` and .ci/run catches a commit made without it.
Exit status of --check: 0 clean, 1 outputs in HEAD or the index, 2 usage or git error.
"""

import json
import subprocess
import sys
from pathlib import Path

FILTER = "nbstrip"
CLEAN = "python3 scripts/nbstrip.py"  # git runs filters from the top of the work tree
DEFAULT_GLOB = "notebooks/*.ipynb"


def strip(nb):
    """Remove outputs, execution counts and execution timings; return the number removed."""
    removed = 0
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs"):
            removed += len(cell["outputs"])
        if cell.get("execution_count") is not None:
            removed += 1
        cell["outputs"] = []
        cell["execution_count"] = None
        if "execution" in cell.get("metadata", {}):
            del cell["metadata"]["execution"]
            removed += 1
    return removed


def dirty_cells(nb):
    """Indices (0-based, among all cells) of the code cells with outputs or an execution count."""
    return [i for i, c in enumerate(nb.get("cells", []))
            if c.get("cell_type") == "code"
            and (c.get("outputs") or c.get("execution_count") is not None)]


def dumps(nb):
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def clean_filter():
    data = sys.stdin.buffer.read()
    try:
        nb = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        # Not a notebook git can strip: pass it through unchanged rather than lose it.
        print(f"nbstrip: not valid notebook JSON ({e}); left as it is", file=sys.stderr)
        sys.stdout.buffer.write(data)
        return 0
    strip(nb)
    sys.stdout.buffer.write(dumps(nb).encode("utf-8"))
    return 0


def git(*args, check=True):
    return subprocess.run(["git", *args], capture_output=True, text=True, check=check)


def install():
    """Point filter.nbstrip.clean at this script in the local git config, once."""
    if work_tree() is None:
        print("nbstrip: not in a git work tree; no filter to install")
        return 0
    key = f"filter.{FILTER}.clean"
    have = git("config", "--local", "--get", key, check=False).stdout.strip()
    if have == CLEAN:
        print(f"nbstrip: git filter '{FILTER}' present ({key} = {CLEAN})")
        return 0
    git("config", "--local", key, CLEAN)
    # No smudge: checkout writes the committed (stripped) notebook unchanged.
    git("config", "--local", f"filter.{FILTER}.smudge", "cat")
    print(f"nbstrip: git filter '{FILTER}' installed in .git/config ({key} = {CLEAN}); "
          f"outputs in {DEFAULT_GLOB} are stripped on git add")
    return 0


def blob(spec):
    """The notebook stored at a git object spec (HEAD:path or :path), or None if absent."""
    proc = git("show", spec, check=False)
    if proc.returncode != 0:
        return None
    return json.loads(proc.stdout)


def work_tree():
    """The top of the git work tree we are in, or None outside one."""
    proc = git("rev-parse", "--show-toplevel", check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def check(paths):
    top = work_tree()
    if top is None:
        print("nbstrip: not in a git work tree; nothing is committed, nothing to check")
        return 0
    if paths:
        rel = []
        for p in paths:
            try:
                rel.append(Path(p).resolve().relative_to(top).as_posix())
            except ValueError:
                print(f"nbstrip: {p} lies outside the work tree; not checked")
    else:
        rel = git("-C", top, "ls-files", "--", DEFAULT_GLOB).stdout.split()
        if not rel:
            print(f"nbstrip: no notebooks tracked under {DEFAULT_GLOB}", file=sys.stderr)
            return 2
    has_head = git("-C", top, "rev-parse", "--verify", "-q", "HEAD", check=False).returncode == 0
    configured = git("-C", top, "config", "--get", f"filter.{FILTER}.clean",
                     check=False).stdout.strip() == CLEAN
    committed, staged, worktree = [], [], []
    for path in rel:
        head = blob(f"HEAD:{path}") if has_head else None
        index = blob(f":{path}")
        if head is not None and dirty_cells(head):
            committed.append((path, dirty_cells(head)))
        if index is not None and dirty_cells(index) and (head is None or index != head):
            staged.append((path, dirty_cells(index)))
        wt = Path(top, path)
        if wt.is_file() and dirty_cells(json.loads(wt.read_text(encoding="utf-8"))):
            worktree.append(path)
    cells = lambda ix: ", ".join(str(i + 1) for i in ix)  # noqa: E731
    for path, ix in committed:
        print(f"nbstrip: {path}: outputs or execution counts are COMMITTED in HEAD "
              f"(cells {cells(ix)})", file=sys.stderr)
    for path, ix in staged:
        print(f"nbstrip: {path}: outputs or execution counts are STAGED in the index "
              f"(cells {cells(ix)})", file=sys.stderr)
    if committed or staged:
        bad = [p for p, _ in committed + staged]
        fix = "python3 scripts/nbstrip.py --install && git add --renormalize " + " ".join(bad)
        print(f"nbstrip: notebooks are committed without outputs. Fix: {fix}"
              + (" && git commit" if committed else ""), file=sys.stderr)
        return 1
    if worktree:
        how = ("the nbstrip filter strips them on git add" if configured else
               "the nbstrip filter is NOT configured in this clone, so git add would commit "
               "them: run python3 scripts/nbstrip.py --install")
        print(f"nbstrip: outputs only in the working tree (e.g. saved by JupyterLab), not "
              f"committed: {', '.join(worktree)}; {how}")
    print(f"nbstrip: ok, {len(rel)} notebook(s) committed without outputs")
    return 0


def main(argv):
    if not argv:
        return clean_filter()
    if argv[0] == "--install" and len(argv) == 1:
        return install()
    if argv[0] == "--check":
        return check(argv[1:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
