# cached.sh: a directory a script makes once (a debootstrap'ed root, say),
# kept under the cache and keyed by a hash of that script and of this file.
# Sourced, with cached_lib set to its path first, by tests/rootfs/
# sysvinit.sh and bench/distro-initrds.sh:
#   cached_where KIND DONE  sets out (where it is kept) and work (where it
#                           is built); prints out and exits 0 when
#                           out/DONE exists
#   cached_build            checks for debootstrap, empties work
#   cached_keep DIR         moves DIR (work, or made in it) to out, removes
#                           work, prints out
cached_where() {
	cache=${EARLYFS_CACHE:-/var/cache/earlyfs}
	key=$(cat "$0" "$cached_lib" | sha256sum | cut -c1-16)
	out=$cache/$1/$key
	work=$cache/$1/build-$key
	if [ -e "$out/$2" ]; then
		echo "$out"
		exit 0
	fi
}

cached_build() {
	command -v debootstrap >/dev/null || {
		echo "$(basename "$0"): debootstrap missing; run 'make deps'" >&2
		exit 1
	}
	rm -rf "$work"
	mkdir -p "$work"
}

cached_keep() {
	mkdir -p "$(dirname "$out")"
	rm -rf "$out"
	mv "$1" "$out"
	rm -rf "$work"
	echo "$out"
}
