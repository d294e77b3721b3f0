#!/bin/sh
# Debian's own early userspace for the stock cloud kernel, for the side by
# side benchmark of bench/kernels.py (make bench, issue 13): a throwaway
# Debian 12 chroot (debootstrap, minbase) installs linux-image-cloud-amd64,
# which makes initramfs-tools' image as installed; then the same with
# MODULES=list and the two virtio modules; then dracut (it replaces
# initramfs-tools) makes a generic image.  Nothing runs on the host but
# debootstrap and chroot'ed package scripts; the chroot is deleted.  Kept:
# vmlinuz, config, lib/modules/VERSION, initrd-tools.img, initrd-tools-list.img,
# initrd-dracut.img, version.  Cached, keyed by a hash of this script
# (tests/lib/cached.sh); the directory is printed on stdout.
set -eu
cached_lib=$(dirname "$0")/../tests/lib/cached.sh
. "$cached_lib"
cached_where distro-initrds version
root=$work/root
cleanup() {
	umount "$root/proc" 2>/dev/null || :
	umount "$root/sys" 2>/dev/null || :
}
trap cleanup EXIT
cached_build
echo "distro-initrds.sh: debootstrap in $work (a few minutes)" >&2
debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >&2
# no service starts in the chroot
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
in_root() { chroot "$root" env DEBIAN_FRONTEND=noninteractive "$@" >&2; }
in_root apt-get install -y -qq --no-install-recommends linux-image-cloud-amd64 \
	initramfs-tools zstd
version=$(ls "$root/lib/modules" | head -n 1)
mkdir -p "$work/out/lib/modules"
cp "$root/boot/vmlinuz-$version" "$work/out/vmlinuz"
cp "$root/boot/config-$version" "$work/out/config"
cp -a "$root/lib/modules/$version" "$work/out/lib/modules/"
cp "$root/boot/initrd.img-$version" "$work/out/initrd-tools.img"
# MODULES=list: only the listed modules (the disk's) and the hooks' own
printf 'virtio_pci\nvirtio_blk\n' >> "$root/etc/initramfs-tools/modules"
echo MODULES=list > "$root/etc/initramfs-tools/conf.d/earlyfs-bench"
in_root mkinitramfs -o /tmp/initrd-list.img "$version"
cp "$root/tmp/initrd-list.img" "$work/out/initrd-tools-list.img"
in_root apt-get install -y -qq --no-install-recommends dracut
in_root dracut --no-hostonly --force /tmp/initrd-dracut.img "$version"
cp "$root/tmp/initrd-dracut.img" "$work/out/initrd-dracut.img"
echo "$version" > "$work/out/version"
cleanup
cached_keep "$work/out"
