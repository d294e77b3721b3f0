#!/bin/sh
# A real Debian 12 root with sysvinit-core as its init (debootstrap, minbase),
# for the test that the init earlyfs-init hands over to works: a getty on the
# serial console, and a boot script that reports init's signal mask and, a
# minute later, the zombies init has left.  Cached outside the work tree,
# keyed by a hash of this script (tests/lib/cached.sh); its path is printed
# on stdout.
# Usage: sysvinit.sh [--print-path]
set -eu
cached_lib=$(dirname "$0")/../lib/cached.sh
. "$cached_lib"
cached_where sysvinit-root sbin/init
[ "${1:-}" = --print-path ] && { echo "$out"; exit 0; }
cached_build
echo "sysvinit.sh: debootstrap of a sysvinit root in $work (about a minute)" >&2
debootstrap --variant=minbase --include=sysvinit-core,procps bookworm \
	"$work" http://deb.debian.org/debian >&2
# what the test needs, and nothing it does not
rm -rf "$work/usr/share/doc" "$work/usr/share/man" "$work/usr/share/locale" \
	"$work/var/cache/apt/archives"/*.deb "$work/var/lib/apt/lists"/*_Packages
echo 'T0:2345:respawn:/sbin/getty -L ttyS0 115200 vt100' >> "$work/etc/inittab"
echo earlyfs-sysv > "$work/etc/hostname"
mkdir -p "$work/boot"
cat > "$work/etc/init.d/earlyfs-probe" <<'PROBE'
#!/bin/sh
### BEGIN INIT INFO
# Provides:          earlyfs-probe
# Required-Start:    $local_fs
# Required-Stop:
# Default-Start:     2 3 4 5
# Default-Stop:
# Short-Description: what the earlyfs test reads on the console
### END INIT INFO
echo "PROBE init $(grep -E '^Sig(Blk|Ign)' /proc/1/status | tr -s '\t\n' '  ')" > /dev/console
# orphans for init to reap, then the zombies left a minute later
( sleep 2 & sleep 3 & ) ; sh -c 'sleep 1 &'
( sleep 60; echo "PROBE zombies=$(grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null | wc -l)" > /dev/console ) &
exit 0
PROBE
chmod 755 "$work/etc/init.d/earlyfs-probe"
# registered as Debian does (insserv orders it, startpar starts it)
chroot "$work" /usr/sbin/update-rc.d earlyfs-probe defaults >&2
cached_keep "$work"
