#!/bin/sh
# Build manifests/$VERSION.toml and publish it as the GitHub release $VERSION with the GitHub CLI.
#   make release VERSION=v0.2            build, create the release if missing, upload the assets
#   make release VERSION=v0.2 DRY_RUN=1  build, then print the exact gh commands instead
# Every built zip is checked with `paperbundle verify` before any gh command runs.
# The GitHub Action (action.yml, through scripts/action.sh) runs this same script.
set -eu
: "${VERSION:?usage: make release VERSION=v0.2 [DRY_RUN=1]}"
OUT=${OUT:-output}
BIN=${BIN:-.venv/bin}
DRY_RUN=${DRY_RUN:-}
MANIFEST=${MANIFEST:-manifests/${VERSION}.toml}
ALLOW_PARTIAL=${ALLOW_PARTIAL:-}
[ -f "$MANIFEST" ] || { echo "release: no manifest $MANIFEST" >&2; exit 2; }

mkdir -p "$OUT"
SUMMARY=$(mktemp)
trap 'rm -f "$SUMMARY"' EXIT
# shellcheck disable=SC2086  # BUILD_ARGS is a list of options, as for `make bundle`
rc=0
"$BIN/paperbundle" build "$MANIFEST" -o "$OUT" --json ${BUILD_ARGS:-} > "$SUMMARY" || rc=$?
if [ "$rc" -eq 3 ] && [ -z "$ALLOW_PARTIAL" ]; then
    echo "release: the build of $MANIFEST skipped some papers (exit 3; see the notes in $OUT);" \
        "not publishing a partial bundle (ALLOW_PARTIAL=1 publishes it anyway)" >&2
    exit 3
elif [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
    echo "release: the build of $MANIFEST failed (exit $rc); nothing published" >&2
    exit "$rc"
fi
if [ -n "$DRY_RUN" ] && ! command -v gh >/dev/null 2>&1; then
    echo "release: warning: the GitHub CLI (gh) is not on PATH; a real run would fail" >&2
fi

# Title, notes and assets from the build's JSON summary: the PDF (readable in the browser) and the
# zip of each volume, and the checksums, so `sha256sum -c` works on the downloaded assets.
eval "$("$BIN/python" - "$SUMMARY" "$MANIFEST" <<'PY'
import json, shlex, sys, tomllib
s = json.load(open(sys.argv[1]))
b = tomllib.load(open(sys.argv[2], "rb"))["bundle"]
title = f'{b.get("title", b["name"])} {b["version"]}'
assets = [f for v in s["volumes"] for f in (v["pdf"], v["zip"])] + [s["sha256"]]
zips = [v["zip"] for v in s["volumes"]]
print(f"TITLE={shlex.quote(title)}")
print(f"ZIPS={shlex.quote(' '.join(shlex.quote(z) for z in zips))}")
print(f"NOTES={shlex.quote(s['notes'])}")
print(f"ASSETS={shlex.quote(' '.join(shlex.quote(a) for a in assets))}")
PY
)"

# Re-check what was built (checksums, every PDF object, contents links, bookmarks) before anything
# is published: a bundle that fails here never reaches the release.
eval "set -- $ZIPS"
for zip in "$@"; do
    "$BIN/paperbundle" verify "$zip" || {
        rc=$?
        echo "release: paperbundle verify $zip failed (exit $rc); nothing published" >&2
        exit "$rc"
    }
done

run() {
    if [ -n "$DRY_RUN" ]; then
        printf '%s' "+"; for a in "$@"; do printf " '%s'" "$a"; done; printf '\n'
    else
        "$@"
    fi
}

if [ -n "$DRY_RUN" ]; then
    echo "# dry run: these commands would publish $VERSION"
    echo "# (the create step runs only when 'gh release view $VERSION' finds no release)"
    run gh release create "$VERSION" --title "$TITLE" --notes-file "$NOTES"
elif ! gh release view "$VERSION" >/dev/null 2>&1; then
    gh release create "$VERSION" --title "$TITLE" --notes-file "$NOTES"
fi
eval "run gh release upload \"\$VERSION\" $ASSETS --clobber"
