#!/usr/bin/env python3
"""Run a notebook through a live JupyterLab in headless Chromium and check what a user sees.

Starts JupyterLab on 127.0.0.1 (a free port, a random token) on a copy of the notebook in
--workdir (so nothing JupyterLab saves touches notebooks/; `crates` there links to the
workspace's, for the notebook's `:dep` paths), opens it in Chromium through Playwright (the
system's Chromium, not a Playwright download), runs every cell with JupyterLab's own command
`notebook:run-all-cells`, waits for the run to finish and the kernel to go idle, and then
requires, in the live page:

  - every code cell ran (an execution count) and none has an error output (the notebook
    model), and no stderr output area says "error" (the DOM);
  - at least --min-figures plotly figures drawn (`.js-plotly-plot` with an SVG and a data
    line or points), and no figure left empty;
  - no fallback text of nmf-plot's notebook display visible (its scripts ran), and the
    status line of nmf_plot::notebook::init says plotly.js loaded.

With --untrusted EXECUTED_NB it also opens an executed notebook that this JupyterLab did not
sign (as a user opens CI's target/notebooks/*.ipynb) without running it: the sanitizer strips
its scripts, so no figure may be drawn and each figure's fallback text must be visible.

JupyterLab and its kernels are shut down afterwards whatever happens (its REST API, then its
processes by id). Reports the time the run took and each code cell's time, as seen by the page.

Usage: lab_check.py [--notebook NB] [--min-figures N] [--timeout S] [--workdir DIR]
                    [--untrusted EXECUTED_NB] [--screenshot PNG]
Exit status: 0 all checks passed, 1 a check failed, 2 usage or environment error.
Expects JUPYTER_PATH to hold the `rust` kernelspec (scripts/lab-check.sh sets it up).
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.dont_write_bytecode = True  # no scripts/__pycache__ from the import below
from browser_check import find_chromium  # noqa: E402

FALLBACK_TEXTS = ["This figure needs JavaScript", "Jupyter did not run it"]
UNTRUSTED_PREFIX = "untrusted-"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(workdir, notebook, untrusted=None):
    """A root for JupyterLab: the notebook copied into notebooks/, crates/ linking back."""
    if workdir.exists():
        shutil.rmtree(workdir)
    nbdir = workdir / "notebooks"
    nbdir.mkdir(parents=True)
    shutil.copy2(notebook, nbdir / notebook.name)
    if untrusted:
        shutil.copy2(untrusted, nbdir / (UNTRUSTED_PREFIX + untrusted.name))
    data = notebook.parent / "data"
    if data.is_dir():
        (nbdir / "data").symlink_to(data.resolve())
    (workdir / "crates").symlink_to(ROOT / "crates")
    # JupyterLab settings of this run only: no autosave, no news or update checks.
    settings = workdir / "settings"
    docmanager = settings / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True)
    (docmanager / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
    tracker = settings / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"recordTiming": True}))
    apputils = settings / "@jupyterlab" / "apputils-extension"
    apputils.mkdir(parents=True)
    (apputils / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    (workdir / "workspaces").mkdir()
    return nbdir


def descendants(pid):
    """Ids of the live processes below pid (from /proc), deepest last."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


class Lab:
    """A JupyterLab server of our own, shut down on exit whatever happens."""

    def __init__(self, root_dir, workdir):
        self.port = free_port()
        self.token = secrets.token_hex(24)
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "jupyterlab.log"
        self.root_dir = root_dir
        self.workdir = workdir
        self.proc = None
        self.pids = []

    def __enter__(self):
        env = dict(os.environ)
        env["JUPYTERLAB_SETTINGS_DIR"] = str(self.workdir / "settings")
        env["JUPYTERLAB_WORKSPACES_DIR"] = str(self.workdir / "workspaces")
        cmd = [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            "--LabApp.expose_app_in_browser=True",
            # Trust as on a fresh machine: no signatures from the user's own sessions.
            "--NotebookNotary.db_file=:memory:",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ] + (["--allow-root"] if os.geteuid() == 0 else [])  # CI runs as root
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        deadline = time.time() + 180
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.proc.returncode}; see "
                                   f"{self.log_path}")
            try:
                self.api("GET", "/api/status")
                return self
            except OSError:
                time.sleep(1)
        raise RuntimeError(f"JupyterLab did not answer on {self.base} in 180 s; see "
                           f"{self.log_path}")

    def api(self, method, path, timeout=10):
        req = urllib.request.Request(self.base + path, method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
        return json.loads(body) if body else None

    def __exit__(self, *exc):
        if self.proc is None:
            return False
        self.pids = descendants(self.proc.pid)  # its kernels run in sessions of their own
        if self.proc.poll() is None:
            try:
                self.api("POST", "/api/shutdown", timeout=30)  # shuts the kernels down too
            except OSError as e:
                print(f"lab-check: /api/shutdown failed ({e}); stopping JupyterLab by signal")
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        time.sleep(1)
        left = [p for p in self.pids if alive(p)]
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if left:
            print(f"lab-check: killed {len(left)} process(es) JupyterLab left behind: {left}")
        self.log.close()
        return False


# JavaScript run in the page. `app` is JupyterLab (exposed by --LabApp.expose_app_in_browser).
JS_READY = """() => {
  const app = window.jupyterapp;
  const w = app && app.shell.currentWidget;
  if (!w || !w.sessionContext || !w.content || !w.content.model) return null;
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  return k ? k.status : 'no kernel';
}"""

JS_RUN_ALL = """() => {
  window.__labCheck = {done: false, started: Date.now()};
  window.jupyterapp.commands.execute('notebook:run-all-cells').then(
    ok => { window.__labCheck = {done: true, ok: ok, ms: Date.now() - window.__labCheck.started}; },
    err => { window.__labCheck = {done: true, ok: false, error: String(err)}; });
  return true;
}"""

JS_PROGRESS = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const cells = Array.from(w.content.model.cells).filter(c => c.type === 'code');
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  return {
    state: window.__labCheck,
    kernel: k ? k.status : 'no kernel',
    code: cells.length,
    counted: cells.filter(c => c.executionCount !== null).length,
    running: w.content.widgets.filter(c => c.model.type === 'code' &&
        c.promptNode && c.promptNode.textContent.includes('*')).length,
  };
}"""

JS_REPORT = """(fallbackTexts) => {
  const w = window.jupyterapp.shell.currentWidget;
  const cells = Array.from(w.content.model.cells).filter(c => c.type === 'code');
  const errors = [];
  cells.forEach((c, i) => {
    for (const o of c.outputs.toJSON()) {
      if (o.output_type === 'error') {
        errors.push(`code cell ${i + 1}: ${o.ename}: ${o.evalue}`.slice(0, 400));
      }
    }
  });
  const stderr = Array.from(document.querySelectorAll(
      '.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]'))
    .map(e => e.textContent).filter(t => /error/i.test(t)).map(t => t.slice(0, 400));
  const figures = Array.from(document.querySelectorAll('.plotly-graph-div')).map(d => ({
    id: d.id,
    plotly: d.classList.contains('js-plotly-plot'),
    svgs: d.querySelectorAll('svg.main-svg').length,
    lines: Array.from(d.querySelectorAll('.scatterlayer .trace path.js-line'))
      .filter(p => (p.getAttribute('d') || '').length > 2).length,
    points: d.querySelectorAll('.scatterlayer .trace path.point').length,
  }));
  const text = document.body.innerText;
  return {
    code: cells.length,
    uncounted: cells.map((c, i) => c.executionCount === null ? i + 1 : 0).filter(i => i),
    errors: errors,
    stderr: stderr,
    figures: figures,
    fallbackElements: document.querySelectorAll('.nmf-plot-fallback').length,
    fallbackVisible: fallbackTexts.filter(t => text.includes(t)),
    plotlyStatus: Array.from(document.querySelectorAll('.jp-OutputArea-output div[id$="-status"]'))
      .map(e => e.textContent.slice(0, 200)),
  };
}"""

# An untrusted notebook: its outputs as JupyterLab's sanitizer left them (no scripts).
JS_UNTRUSTED = """(fallbackText) => {
  const outputs = Array.from(document.querySelectorAll('.jp-OutputArea-output'));
  const text = outputs.map(e => e.textContent).join('\\n');
  return {
    outputs: outputs.length,
    fallbacks: text.split(fallbackText).length - 1,
    visible: document.body.innerText.includes(fallbackText),
    plots: document.querySelectorAll('.js-plotly-plot').length,
    scripts: document.querySelectorAll('.jp-OutputArea-output script').length,
  };
}"""


def check_untrusted(browser, lab, args):
    """Open an executed notebook this server has not signed: the fallback must be visible."""
    name = UNTRUSTED_PREFIX + args.untrusted.name
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{lab.base}/lab/tree/{name}?token={lab.token}", wait_until="domcontentloaded",
              timeout=120_000)
    page.wait_for_function(f"() => ({JS_READY})() !== null", timeout=180_000, polling=500)
    try:
        page.wait_for_function(
            "(t) => Array.from(document.querySelectorAll('.jp-OutputArea-output'))"
            ".map(e => e.textContent).join('').split(t).length - 1 >= 1",
            arg=FALLBACK_TEXTS[0], timeout=60_000, polling=500)
    except Exception:  # reported below
        pass
    page.wait_for_timeout(1000)
    u = page.evaluate(JS_UNTRUSTED, FALLBACK_TEXTS[0])
    if args.screenshot:
        shot = Path(args.screenshot)
        shot = shot.with_name(f"{shot.stem}-untrusted{shot.suffix}")
        page.screenshot(path=str(shot))
        print(f"lab-check: screenshot {shot}")
    page.close()
    print(f"lab-check: untrusted {args.untrusted.name}: {u['outputs']} outputs, "
          f"{u['fallbacks']} figure fallback(s), visible: {u['visible']}, {u['plots']} plotly "
          f"plot(s), {u['scripts']} script(s) left by the sanitizer")
    problems = []
    if u["fallbacks"] < args.min_figures or not u["visible"]:
        problems.append(f"untrusted {args.untrusted.name}: {u['fallbacks']} fallback text(s) "
                        f"(visible: {u['visible']}), at least {args.min_figures} expected")
    if u["plots"] or u["scripts"]:
        problems.append(f"untrusted {args.untrusted.name}: scripts ran or survived "
                        f"({u['plots']} plots, {u['scripts']} scripts): is it trusted?")
    return problems


def run_check(lab, nb_name, args):
    from playwright.sync_api import sync_playwright

    problems = []
    chromium = args.chromium or find_chromium()
    if not chromium:
        raise RuntimeError("no chromium on PATH (apt-get install -y chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium, headless=True,
            # Only JupyterLab on 127.0.0.1 is reached; every name lookup fails.
            args=["--no-sandbox", "--disable-gpu",
                  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            console = []
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"[:300])
                    if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: console.append(f"pageerror: {e}"[:300]))
            t0 = time.time()
            page.goto(f"{lab.base}/lab/tree/{nb_name}?token={lab.token}",
                      wait_until="domcontentloaded", timeout=120_000)
            page.wait_for_function(f"() => ({JS_READY})() === 'idle'", timeout=180_000,
                                   polling=500)
            print(f"lab-check: notebook open, kernel idle after {time.time() - t0:.0f} s")
            page.evaluate(JS_RUN_ALL)
            t_run = time.time()
            last, state = None, None
            while time.time() - t_run < args.timeout:
                p = page.evaluate(JS_PROGRESS)
                state = p["state"]
                line = (f"{p['counted']}/{p['code']} code cells ran, {p['running']} queued or "
                        f"running, kernel {p['kernel']}")
                if line != last:
                    print(f"lab-check: {time.time() - t_run:6.0f} s: {line}", flush=True)
                    last = line
                if state and state.get("done") and p["kernel"] == "idle":
                    break
                time.sleep(2)
            run_s = time.time() - t_run
            if not (state and state.get("done")):
                problems.append(f"the run did not finish in {args.timeout} s")
            elif not state.get("ok"):
                problems.append(f"notebook:run-all-cells did not succeed: {state}")
            print(f"lab-check: run all cells took {run_s:.0f} s")
            # plotly draws asynchronously: give every figure's SVG a moment to appear.
            try:
                page.wait_for_function(
                    "(n) => document.querySelectorAll('.js-plotly-plot svg.main-svg').length "
                    ">= n", arg=args.min_figures, timeout=60_000, polling=500)
            except Exception:  # reported by the checks below
                pass
            page.wait_for_timeout(1000)
            r = page.evaluate(JS_REPORT, FALLBACK_TEXTS)
            times = page.evaluate("""() => {
              const w = window.jupyterapp.shell.currentWidget;
              return w.content.widgets.filter(c => c.model.type === 'code').map(c =>
                (c.model.getMetadata && c.model.getMetadata('execution')) || null);
            }""")
            if args.screenshot:
                Path(args.screenshot).parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=args.screenshot)
                print(f"lab-check: screenshot {args.screenshot}")
            if args.untrusted:
                problems += check_untrusted(browser, lab, args)
        finally:
            browser.close()

    for i, t in enumerate(times or []):
        if t and "shell.execute_reply" in t and "iopub.execute_input" in t:
            secs = (datetime.fromisoformat(t["shell.execute_reply"])
                    - datetime.fromisoformat(t["iopub.execute_input"])).total_seconds()
            print(f"lab-check: code cell {i + 1} ran in {secs:.1f} s")
    for f in r["figures"]:
        ok = f["plotly"] and f["svgs"] > 0 and (f["lines"] > 0 or f["points"] > 0)
        print(f"lab-check:   {'ok ' if ok else 'BAD'} #{f['id']}: {f['svgs']} main-svg, "
              f"{f['lines']} data lines, {f['points']} marker points")
        if not ok:
            problems.append(f"figure #{f['id']} did not render data")
    drawn = sum(1 for f in r["figures"]
                if f["plotly"] and f["svgs"] > 0 and (f["lines"] > 0 or f["points"] > 0))
    print(f"lab-check: {drawn} figure(s) drawn, {r['code']} code cells; plotly status: "
          f"{r['plotlyStatus']}")
    if drawn < args.min_figures:
        problems.append(f"{drawn} figure(s) drawn, at least {args.min_figures} required")
    if r["uncounted"]:
        problems.append(f"code cells that did not run: {r['uncounted']}")
    for e in r["errors"]:
        problems.append(f"error output: {e}")
    for e in r["stderr"]:
        problems.append(f"stderr output says error: {e!r}")
    if args.min_figures and not any("loaded (embedded, offline)" in t for t in r["plotlyStatus"]):
        problems.append(f"no 'plotly.js ... loaded' status line: {r['plotlyStatus']}")
    if r["fallbackElements"] or r["fallbackVisible"]:
        problems.append(f"the no-script fallback is still there ({r['fallbackElements']} "
                        f"element(s); visible text: {r['fallbackVisible']})")
    for line in console[:20]:
        print(f"lab-check: console {line}")
    return problems, run_s


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--notebook", type=Path,
                   default=ROOT / "notebooks" / "01-the-note-reproduced.ipynb")
    p.add_argument("--min-figures", type=int, default=2)
    p.add_argument("--timeout", type=int, default=1800,
                   help="seconds for running all cells (the first :dep compile takes minutes)")
    p.add_argument("--workdir", type=Path, default=ROOT / "target" / "lab-check")
    p.add_argument("--chromium", help="Chromium executable (default: the one on PATH)")
    p.add_argument("--screenshot", help="save a PNG of the page here")
    p.add_argument("--untrusted", type=Path, metavar="EXECUTED_NB",
                   help="also open this executed notebook (e.g. scripts/notebooks.sh's) without "
                        "running it: JupyterLab does not trust it, so each figure's fallback "
                        "text must be visible")
    args = p.parse_args()
    if not args.notebook.is_file():
        print(f"lab-check: no such notebook: {args.notebook}", file=sys.stderr)
        return 2
    try:
        import playwright  # noqa: F401
    except ImportError:
        print("lab-check: Playwright is missing (python3 -m pip install playwright)",
              file=sys.stderr)
        return 2
    workdir = args.workdir.resolve()
    if args.untrusted and not args.untrusted.is_file():
        print(f"lab-check: no such notebook: {args.untrusted}", file=sys.stderr)
        return 2
    nbdir = prepare(workdir, args.notebook.resolve(),
                    args.untrusted.resolve() if args.untrusted else None)
    start = time.time()
    try:
        with Lab(nbdir, workdir) as lab:
            print(f"lab-check: JupyterLab on {lab.base} (log {lab.log_path})")
            problems, run_s = run_check(lab, args.notebook.name, args)
    except Exception as e:  # noqa: BLE001 (any failure here fails the check, loudly)
        print(f"lab-check: FAIL {args.notebook.name}: {type(e).__name__}: {e}", file=sys.stderr)
        log = workdir / "jupyterlab.log"
        if log.exists():
            print("lab-check: JupyterLab log tail:\n" + log.read_text()[-3000:], file=sys.stderr)
        return 1
    for pr in problems:
        print(f"lab-check: FAIL {args.notebook.name}: {pr}", file=sys.stderr)
    if problems:
        log = workdir / "jupyterlab.log"
        print("lab-check: JupyterLab log tail:\n" + log.read_text()[-3000:], file=sys.stderr)
        return 1
    print(f"lab-check: ok {args.notebook.name}: ran in JupyterLab in {run_s:.0f} s "
          f"({time.time() - start:.0f} s with JupyterLab's start and stop)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
