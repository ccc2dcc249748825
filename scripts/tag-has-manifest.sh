#!/bin/sh
# release.yml's first step: does the pushed tag $1 have a bundle, manifests/$1.toml?
# Prints build=true or build=false (for $GITHUB_OUTPUT), so tags of the action itself
# (v1, v1.2.0 with no manifest) build nothing and the workflow ends green.
set -eu
tag=${1:?usage: sh scripts/tag-has-manifest.sh TAG}
if [ -f "manifests/$tag.toml" ]; then
    echo "build=true"
else
    echo "no manifests/$tag.toml: tag $tag has no bundle, nothing to build" >&2
    echo "build=false"
fi
