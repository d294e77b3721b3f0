#!/bin/sh
# The test kernel plus tracepoints (tests/kernel/trace.config), for
# make bench-trace: tests/kernel/build.sh run on the two fragments joined,
# cached the same way (keyed by their hash) under $cache/trace-kernel.
# Prints the bzImage's path.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${EARLYFS_CACHE:-/var/cache/earlyfs}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat "$top/tests/kernel/earlyfs.config" "$top/tests/kernel/trace.config" \
	> "$tmp/earlyfs.config"
cp "$top/tests/kernel/build.sh" "$tmp/build.sh"
EARLYFS_CACHE=$cache/trace-kernel sh "$tmp/build.sh"
