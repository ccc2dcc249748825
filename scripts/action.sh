#!/bin/sh
# The logic of the GitHub Action (action.yml), kept here so it runs and is tested without GitHub.
# The action's inputs arrive as INPUT_* variables (never spliced into the script text):
#   INPUT_VERSION (required), INPUT_MANIFEST (default manifests/$INPUT_VERSION.toml),
#   INPUT_BUILD_ARGS, INPUT_PUBLISH (true|false), INPUT_ALLOW_PARTIAL (true|false),
#   INPUT_OUTPUT_DIR (default output).
#   sh scripts/action.sh prepare   print manifest=, lock=, cache-key-file= lines (for $GITHUB_OUTPUT)
#   sh scripts/action.sh run       build, verify, publish: scripts/release.sh (BIN from $BIN)
# With INPUT_PUBLISH=false the run builds and verifies only: release.sh's dry run, no gh call.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${INPUT_VERSION:?action: the version input is empty (no tag? pass version:)}"
MANIFEST=${INPUT_MANIFEST:-manifests/${INPUT_VERSION}.toml}

flag() { # flag NAME VALUE: "1" for true, "" for false, exit 2 for anything else
    case "$2" in
        true) echo 1 ;;
        false) echo "" ;;
        *) echo "action: input $1 must be true or false, not '$2'" >&2; exit 2 ;;
    esac
}

case "${1:-}" in
    prepare)
        [ -f "$MANIFEST" ] || { echo "action: no manifest $MANIFEST" >&2; exit 2; }
        lock="${MANIFEST%.toml}.lock.json"
        # The paper cache is keyed on the lock file (the exact files); without one, on the manifest.
        if [ -f "$lock" ]; then key_file=$lock; else key_file=$MANIFEST; fi
        printf 'manifest=%s\nlock=%s\ncache-key-file=%s\n' "$MANIFEST" "$lock" "$key_file"
        ;;
    run)
        publish=$(flag publish "${INPUT_PUBLISH:-true}")
        partial=$(flag allow-partial "${INPUT_ALLOW_PARTIAL:-false}")
        if [ -n "$publish" ]; then dry=""; else dry=1; fi
        VERSION=$INPUT_VERSION MANIFEST=$MANIFEST OUT=${INPUT_OUTPUT_DIR:-output} \
            BUILD_ARGS=${INPUT_BUILD_ARGS:-} ALLOW_PARTIAL=$partial DRY_RUN=$dry \
            BIN=${BIN:-.venv/bin} exec sh "$here/release.sh"
        ;;
    *)
        echo "usage: sh scripts/action.sh prepare|run" >&2
        exit 2
        ;;
esac
