#!/usr/bin/env bash
# Build the book (book/) into target/book, from a clean clone, offline at read time.
#
#   1. installs what is missing, pinned and idempotently: mdbook and mdbook-katex with
#      `cargo install --locked`, the KaTeX stylesheet and fonts from the npm registry
#      (`npm pack`, integrity checked), unpacked into book/src/vendor/katex;
#   2. regenerates the evidence: `nmf-book-gen` runs the pinned experiments through nmf-core
#      and writes tables, quoted values and figures into book/src/generated, and plotly.js
#      into book/vendor (all gitignored);
#   3. builds the book, failing on a missing {{#include}} file or anchor
#      (`nmf-book-gen --check-includes`, and mdBook's log) and on a TeX error (mdbook-katex's log);
#   4. checks every internal link and that the HTML loads nothing from the network
#      (scripts/book_links.py), and that no TeX source is left in any page;
#   5. with --browser (as in CI), opens chapters in headless Chromium and checks that the
#      figures and the math rendered and that no request left the machine (scripts/book_check.py).
#
# Usage: scripts/book.sh [--browser] [--open]
set -euo pipefail
cd "$(dirname "$0")/.."

MDBOOK_VERSION=0.5.4
MDBOOK_KATEX_VERSION=0.10.0
# The KaTeX that mdbook-katex 0.10.0 renders with (its katex crate 0.4.6 bundles KaTeX 0.16.4):
# the stylesheet and fonts must be the same version as the HTML they style.
KATEX_VERSION=0.16.4
KATEX_INTEGRITY="sha512-WudRKUj8yyBeVDI4aYMNxhx5Vhh2PjpzQw1GRu/LVGqL4m1AxwD1GcUp0IMbdJaf5zsjtj8ghP0DOQRYhroNkw=="

browser=0
open_book=0
for arg in "$@"; do
  case "$arg" in
    --browser) browser=1 ;;
    --open) open_book=1 ;;
    *) echo "usage: scripts/book.sh [--browser] [--open]" >&2; exit 2 ;;
  esac
done

start=$(date +%s)
export PATH="$HOME/.cargo/bin:$PATH"

# --- 1. tools -------------------------------------------------------------------------------
cargo_tool() { # binary crate version
  local have
  have=$("$1" --version 2>/dev/null || true)
  if [[ "$have" == *" v$3"* || "$have" == *" $3"* ]]; then
    echo "== $1 $3 present"
  else
    echo "== installing $2 $3 (found: ${have:-none})"
    cargo install --locked "$2" --version "$3"
  fi
}
cargo_tool mdbook mdbook "$MDBOOK_VERSION"
cargo_tool mdbook-katex mdbook-katex "$MDBOOK_KATEX_VERSION"

katex_dir=book/src/vendor/katex
if [[ -f "$katex_dir/VERSION" && "$(cat "$katex_dir/VERSION")" == "$KATEX_VERSION" \
      && -f "$katex_dir/katex.min.css" && -d "$katex_dir/fonts" ]]; then
  echo "== KaTeX $KATEX_VERSION stylesheet and fonts present"
else
  echo "== fetching the KaTeX $KATEX_VERSION stylesheet and fonts (npm registry)"
  command -v npm >/dev/null || { echo "book.sh: npm is needed to fetch KaTeX's CSS" >&2; exit 1; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "katex@$KATEX_VERSION" >/dev/null)
  tarball="$tmp/katex-$KATEX_VERSION.tgz"
  got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [[ "$got" != "$KATEX_INTEGRITY" ]]; then
    echo "book.sh: katex-$KATEX_VERSION.tgz has integrity $got, expected $KATEX_INTEGRITY" >&2
    exit 1
  fi
  tar -xzf "$tarball" -C "$tmp"
  rm -rf "$katex_dir"
  mkdir -p "$katex_dir"
  cp "$tmp/package/dist/katex.min.css" "$katex_dir/"
  cp -r "$tmp/package/dist/fonts" "$katex_dir/"
  cp "$tmp/package/LICENSE" "$katex_dir/LICENSE"
  echo "$KATEX_VERSION" >"$katex_dir/VERSION"
fi
tools_done=$(date +%s)

# --- 2. evidence ----------------------------------------------------------------------------
echo "== generating the evidence (nmf-book-gen)"
rm -rf book/src/generated
cargo run --release --locked -q -p nmf-book-gen -- --out book/src/generated --vendor book/vendor
# Versions of everything the book was built with, for the last chapter.
{
  echo "| tool | version |"
  echo "|---|---|"
  echo "| workspace commit | \`$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)\`$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)') |"
  echo "| rustc | $(rustc --version) |"
  echo "| cargo | $(cargo --version) |"
  echo "| mdbook | $(mdbook --version) |"
  echo "| mdbook-katex | $(mdbook-katex --version) |"
  echo "| KaTeX (stylesheet, fonts, renderer) | $KATEX_VERSION |"
  for crate in plotly ndarray ndarray-rand rand_chacha nalgebra num-rational num-bigint; do
    v=$(awk -v c="$crate" '$0=="name = \""c"\"" {getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)
    echo "| crate $crate | ${v:-?} |"
  done
  echo "| chromium (browser check) | $( (chromium --version 2>/dev/null || echo 'not installed') | head -1) |"
} >book/src/generated/versions.md
gen_done=$(date +%s)

# --- 3. build -------------------------------------------------------------------------------
# mdBook 0.5 only logs an unreadable include (and silently drops a missing anchor), and
# mdbook-katex only warns on a TeX error: check the includes first and fail on either log line.
cargo run --release --locked -q -p nmf-book-gen -- --check-includes book/src
echo "== building the book into target/book"
rm -rf target/book
mkdir -p target
mdbook build book 2>&1 | tee target/book-build.log
if grep -E "ERROR|Rendering failed" target/book-build.log >/dev/null; then
  echo "book.sh: mdBook reported an error (see above, or target/book-build.log)" >&2
  exit 1
fi
build_done=$(date +%s)

# --- 4. links and network references --------------------------------------------------------
echo "== checking links, and that no TeX source is left in any page"
python3 scripts/book_links.py target/book
python3 scripts/book_check.py target/book --static

# --- 5. browser -----------------------------------------------------------------------------
if [[ "$browser" == 1 ]]; then
  bash scripts/ensure-chromium.sh
  python3 scripts/book_check.py target/book
fi

end=$(date +%s)
echo "== book built in $((end - start)) s (tools $((tools_done - start)) s, evidence $((gen_done - tools_done)) s, mdbook $((build_done - gen_done)) s, checks $((end - build_done)) s)"
echo "   open target/book/index.html"
if [[ "$open_book" == 1 ]]; then
  xdg-open target/book/index.html >/dev/null 2>&1 || echo "(no xdg-open: open target/book/index.html in a browser)"
fi
