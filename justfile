# Everyday recipes. `just --list` shows them. Install just with `pip install rust-just`.

# Run every test (the README's test command).
test:
    cargo test --workspace

# The main job: the note's experiment on its embedded default; writes nmf-lab-out/.
reproduce *ARGS:
    cargo run --release -p nmf-cli -- reproduce {{ARGS}}

# The exact rational check of one MU step and Lemmas 1–2.
verify-exact *ARGS:
    cargo run --release -p nmf-cli -- verify-exact {{ARGS}}

# nmf-lab's MU on the digits matrix against scikit-learn's MU from the same start (installs scikit-learn if missing).
compare-sklearn:
    cargo build --release -p nmf-cli
    python3 scripts/sklearn_compare.py --nmf-lab target/release/nmf-lab --data data/digits.csv --rank 10 --iters 2000 --seed 0

# Regenerate data/digits.csv from scikit-learn (installs it if missing; idempotent).
digits:
    python3 scripts/digits.py

# Review changed trace snapshots one by one (installs cargo-insta if missing).
review:
    command -v cargo-insta >/dev/null || cargo install --locked cargo-insta
    cargo insta test --workspace --review

# Format and lint as CI does.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    python3 scripts/nbstrip.py --check

# Criterion benchmarks: one iteration with/without diagnostics, and reproduce.
bench:
    cargo bench -p nmf-core --bench mu

# Time a wide (61×1797) against a tall (1797×61) run in one go and print the ratio.
bench-wide:
    bash scripts/bench-wide.sh

# Time the note's NumPy script and `nmf-lab reproduce` in one run and print the ratio.
bench-numpy:
    bash scripts/bench-numpy.sh

# nmf-lab sweep on 10 000 instances × 1000 iterations (15×8, k = 5, MU) with 1 and 2 threads: µs per iteration per core.
bench-sweep *ARGS:
    bash scripts/bench-sweep.sh {{ARGS}}

# The smoke sweep (160 instances, a few seconds) and its report.
sweep-smoke:
    cargo run --release -p nmf-cli -- sweep --grid sweeps/smoke.toml --out target/sweep-smoke
    cargo run --release -p nmf-cli -- sweep report target/sweep-smoke

# Everything CI runs.
ci:
    bash .ci/run

# Installs mdbook, mdbook-katex and KaTeX's CSS if missing (pinned); `just book --browser` adds the Chromium check.
# The book: regenerate the evidence, build into target/book, check links; open target/book/index.html.
book *ARGS:
    bash scripts/book.sh {{ARGS}}

# Execute every notebook headless on the evcxr kernel, export HTML to target/notebooks/ (installs what is missing).
notebooks *ARGS:
    bash scripts/notebooks.sh {{ARGS}}

# JupyterLab on notebooks/ with the evcxr kernel, printing the URL (installs what is missing; ARGS go to jupyter lab).
lab *ARGS:
    bash scripts/lab.sh {{ARGS}}

# Notebook 01 run through a live JupyterLab in headless Chromium: figures drawn, no error output (as CI; installs what is missing).
lab-check *ARGS:
    bash scripts/lab-check.sh {{ARGS}}

# Headless Chromium, offline: a reproduce run's figures.html, the AMD self-test and the exported notebooks render.
browser-check:
    cargo run --release -q -p nmf-cli -- reproduce --iters 2000 --quiet --out target/browser-check/reproduce
    cargo run --release -q -p nmf-plot --example amd_selftest -- target/browser-check/amd-selftest.html
    bash scripts/browser-check.sh --min-figures 5 target/browser-check/reproduce/figures.html
    bash scripts/browser-check.sh --require "AMD loader restored" --require "AMD registrations: 0" target/browser-check/amd-selftest.html
    @test -e target/notebooks/01-the-note-reproduced.html || { echo "no exported notebooks: run 'just notebooks' first"; exit 1; }
    bash scripts/browser-check.sh --min-figures 2 --forbid "This figure needs JavaScript" --forbid "Jupyter did not run it" target/notebooks/*.html

# The sweep against a straightforward NumPy loop over the same instances and diagnostics, in one
# run, with the ratio: just bench-sweep-numpy [INSTANCES [ITERS [REPEAT]]].
bench-sweep-numpy *ARGS:
    bash scripts/bench-sweep-numpy.sh {{ARGS}}
