#!/bin/sh
# Install the PDF readers the tests judge bundles with, when they are missing (run by `make test`):
#   qpdf (qpdf --check), MuPDF (mutool), poppler (pdftoppm) from Debian's packages, and pdf.js
#   (pdfjs-dist, pinned in tests/readers/package-lock.json) from the npm registry.
# With --bench (run by `make bench` and `make bench-scale`) it also installs what the benchmarks
# compare with and measure by: pdftk (pdftk-java) and GNU time (/usr/bin/time -v).
# Each step is skipped when its tool is already there, so a second run costs nothing.
set -eu
cd "$(dirname "$0")/.."

need=""
command -v qpdf >/dev/null 2>&1 || need="$need qpdf"
command -v mutool >/dev/null 2>&1 || need="$need mupdf-tools"
command -v pdftoppm >/dev/null 2>&1 || need="$need poppler-utils"
command -v node >/dev/null 2>&1 || need="$need nodejs npm"
if [ "${1:-}" = "--bench" ]; then
    command -v pdftk >/dev/null 2>&1 || need="$need pdftk-java"
    [ -x /usr/bin/time ] || need="$need time"
fi
if [ -n "$need" ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "test-tools: installing$need" >&2
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086  # $need is a list of package names
    $sudo apt-get install -y -q --no-install-recommends $need >/dev/null \
        || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q --no-install-recommends $need >/dev/null; }
fi

if [ ! -f tests/readers/node_modules/pdfjs-dist/legacy/build/pdf.mjs ]; then
    echo "test-tools: installing pdf.js (tests/readers)" >&2
    npm ci --prefix tests/readers --omit=optional --no-audit --no-fund --loglevel=error >/dev/null
fi
