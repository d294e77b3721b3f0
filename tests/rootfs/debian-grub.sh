#!/bin/sh
# A real Debian 12 machine that boots the way Debian installs it: GRUB in
# the MBR (BIOS) and at the ESP's removable path (UEFI), grub.cfg made by
# update-grub, linux-image-cloud-amd64 with initramfs-tools, sysvinit.  For
# the tests of such a machine's life through earlyfs (issue 27,
# tests/cli/test_debian.py).
#   disk.img (MBR, 2 GiB, sparse): 1 ESP (64 MiB, FAT), 2 a spare partition
#            (128 MiB, empty: earlyfs provisions it), 3 the root (ext4)
#   generic.deb  Debian's generic kernel package (disk drivers as modules),
#            the second kernel the tests install with dpkg
#   partuuid, version  the root's PARTUUID, the cloud kernel's version
# The earlyfs package's dependencies are installed (the guest has no
# network).  A test agent (/etc/init.d/earlyfs-agent) runs, at the end of
# each boot, run.sh from the tar archive on the second disk (/dev/vdb) with
# its output on the serial console, then powers off.  GRUB is installed by
# booting the machine once, its own kernel and initramfs, with grub-install
# and update-grub as init.  Cached, keyed by a hash of this script
# (tests/lib/cached.sh); the directory is printed on stdout.
set -eu
cached_lib=$(dirname "$0")/../lib/cached.sh
. "$cached_lib"
cached_where debian-grub disk.img
root=$work/root
cleanup() {
	umount "$root/proc" 2>/dev/null || :
	umount "$root/sys" 2>/dev/null || :
}
trap cleanup EXIT
cached_build
echo "debian-grub.sh: debootstrap and a first boot in $work (minutes)" >&2
debootstrap --variant=minbase --include=sysvinit-core,procps bookworm \
	"$root" http://deb.debian.org/debian >&2
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
in_root() { chroot "$root" env DEBIAN_FRONTEND=noninteractive "$@" >&2; }
in_root apt-get install -y -qq --no-install-recommends \
	linux-image-cloud-amd64 initramfs-tools udev kmod zstd \
	grub2-common grub-pc-bin grub-efi-amd64-bin dosfstools \
	busybox-static extlinux syslinux-common e2fsprogs libfdisk1 \
	libblkid1 libext2fs2 mtools
version=$(ls "$root/lib/modules" | head -n 1)
generic=$(chroot "$root" apt-cache depends linux-image-amd64 |
	sed -n 's/.*Depends: \(linux-image-[0-9][^ ]*\)/\1/p' | head -n 1)
(cd "$work" && chroot "$root" sh -c "cd /tmp && apt-get download -qq $generic" \
	>&2 && mv "$root"/tmp/linux-image-*.deb "$work/generic.deb")
rm -f "$root/usr/sbin/policy-rc.d" "$root"/var/cache/apt/archives/*.deb
cleanup

uuid=$(cat /proc/sys/kernel/random/uuid)
echo earlyfs-debian > "$root/etc/hostname"
cat > "$root/etc/fstab" <<EOF
UUID=$uuid / ext4 errors=remount-ro 0 1
EOF
cat > "$root/etc/default/grub" <<'EOF'
GRUB_DEFAULT=0
GRUB_TIMEOUT=1
GRUB_DISTRIBUTOR=Debian
GRUB_CMDLINE_LINUX_DEFAULT=""
GRUB_CMDLINE_LINUX="console=ttyS0,115200"
GRUB_TERMINAL="console serial"
GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
GRUB_DISABLE_OS_PROBER=true
EOF
cat > "$root/etc/init.d/earlyfs-agent" <<'EOF'
#!/bin/sh
### BEGIN INIT INFO
# Provides:          earlyfs-agent
# Required-Start:    $all
# Required-Stop:
# Default-Start:     2 3 4 5
# Default-Stop:
# Short-Description: runs the earlyfs test's step from /dev/vdb
### END INIT INFO
[ "$1" = start ] && [ -b /dev/vdb ] || exit 0
mkdir -p /run/step && tar -xf /dev/vdb -C /run/step 2>/dev/null
if [ -f /run/step/run.sh ]; then
	echo "AGENT-START $(cat /proc/cmdline)"
	(cd /run/step && PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive sh -e ./run.sh) 2>&1
	echo "AGENT-DONE rc=$?"
fi > /dev/ttyS0
sync
/sbin/poweroff -f
EOF
chmod 755 "$root/etc/init.d/earlyfs-agent"
chroot "$root" update-rc.d earlyfs-agent defaults >&2
cat > "$root/root/setup-grub" <<'EOF'
#!/bin/sh
# init of the first boot: GRUB for BIOS and UEFI, grub.cfg, power off
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -o remount,rw /
modprobe vfat
mkdir -p /boot/efi
mount -t vfat /dev/vda1 /boot/efi
grub-install --target=i386-pc /dev/vda &&
grub-install --target=x86_64-efi --efi-directory=/boot/efi --removable \
	--no-nvram &&
update-grub && echo SETUP-GRUB-OK
umount /boot/efi
mount -o remount,ro /
sync
poweroff -f
EOF
chmod 755 "$root/root/setup-grub"

disk=$work/disk.img
rm -f "$disk"
truncate -s 2G "$disk"
sfdisk -q "$disk" <<'EOF'
label: dos
start=1MiB, size=64MiB, type=ef
size=128MiB, type=83
type=83
EOF
start() { sfdisk -J "$disk" | python3 -c "import json,sys; print(json.load(sys.stdin)['partitiontable']['partitions'][$1]['start'] * 512)"; }
size() { sfdisk -J "$disk" | python3 -c "import json,sys; print(json.load(sys.stdin)['partitiontable']['partitions'][$1]['size'] * 512)"; }
mkfs.fat -F 16 --offset=$(($(start 0) / 512)) -n EFI "$disk" $(($(size 0) / 1024)) >&2
mke2fs -q -F -t ext4 -U "$uuid" -d "$root" -E offset=$(start 2) "$disk" \
	$(($(size 2) / 1024))k >&2
kernel=$root/boot/vmlinuz-$version
initrd=$root/boot/initrd.img-$version
accel=""
[ -w /dev/kvm ] && grep -qE 'vmx|svm' /proc/cpuinfo && accel="-enable-kvm -cpu host"
# shellcheck disable=SC2086
timeout 900 qemu-system-x86_64 -machine pc -m 1024 -display none \
	-monitor none -serial stdio -no-reboot $accel \
	-drive "file=$disk,format=raw,if=virtio" -kernel "$kernel" \
	-initrd "$initrd" -append "root=UUID=$uuid console=ttyS0 \
	init=/root/setup-grub" > "$work/setup.log" 2>&1 || :
grep -q SETUP-GRUB-OK "$work/setup.log" || {
	echo "debian-grub.sh: GRUB setup failed; see $work/setup.log" >&2
	tail -40 "$work/setup.log" >&2
	exit 1
}
mkdir -p "$work/out"
mv "$disk" "$work/generic.deb" "$work/out/"
echo "$version" > "$work/out/version"
# a DOS table's PARTUUID: its disk identifier, then the partition number
sfdisk -J "$work/out/disk.img" | python3 -c "import json, sys
print('%s-03' % json.load(sys.stdin)['partitiontable']['id'][2:].lower())" \
	> "$work/out/partuuid"
cached_keep "$work/out"
