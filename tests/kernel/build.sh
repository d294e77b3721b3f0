#!/bin/sh
# Build (or reuse) the test kernel: Debian's linux-source-6.1, tinyconfig plus
# earlyfs.config.  The result is cached outside the work tree, keyed by a hash
# of the fragment, this script and the source package version, and its path is
# printed on stdout.  Usage: build.sh [--print-path]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=${EARLYFS_CACHE:-/var/cache/earlyfs}
src=/usr/src/linux-source-6.1.tar.xz
[ -r "$src" ] || { echo "build.sh: $src missing; run 'make deps'" >&2; exit 1; }
ver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
key=$( { cat "$here/earlyfs.config" "$here/build.sh"; echo "$ver"; } |
	sha256sum | cut -c1-16)
out=$cache/kernel/$key
if [ -s "$out/bzImage" ]; then
	echo "$out/bzImage"
	exit 0
fi
[ "${1:-}" = --print-path ] && { echo "$out/bzImage"; exit 0; }
work=$cache/kernel/build-$key
rm -rf "$work"
mkdir -p "$work"
echo "build.sh: building test kernel $key (linux-source $ver) in $work" >&2
tar -C "$work" -xJf "$src"
k=$work/linux-source-6.1
make -s -C "$k" tinyconfig >&2
"$k/scripts/kconfig/merge_config.sh" -m -O "$k" "$k/.config" \
	"$here/earlyfs.config" >/dev/null
make -s -C "$k" olddefconfig >&2
# Refuse a kernel that silently lost an option of the fragment.
missing=$(grep '^CONFIG_.*=y$' "$here/earlyfs.config" | while read -r l; do
	grep -qx "$l" "$k/.config" || echo "${l%=y}"; done)
if [ -n "$missing" ]; then
	echo "build.sh: options not set in the final config:" $missing >&2
	exit 1
fi
make -s -C "$k" -j"$(nproc)" bzImage >&2
mkdir -p "$out"
cp "$k/arch/x86/boot/bzImage" "$out/bzImage.tmp"
cp "$k/.config" "$out/config"
mv "$out/bzImage.tmp" "$out/bzImage"
rm -rf "$work"
echo "$out/bzImage"
