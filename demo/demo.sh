#!/bin/sh
# make demo: a disk image made only by the earlyfs CLI, booted in QEMU on
# this terminal: SeaBIOS, extlinux's menu, earlyfs-init, the real root.
# DEMO_BATCH=1: no interactive shell, the guest powers off (for tests).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=${DEMO_DIR:-$top/build/demo}
earlyfs=$top/build/earlyfs
kernel=$("$top/tests/kernel/build.sh")

rm -rf "$out"
mkdir -p "$out/root"
cd "$out/root"
mkdir -p bin sbin etc proc sys dev run tmp boot mnt root
cp /bin/busybox bin/
for a in $(busybox --list); do
	[ "$a" = busybox ] || ln -s busybox "bin/$a"
done
cat > sbin/init <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
echo
echo "=== earlyfs demo: the real root; this init is PID $$ ==="
echo "The boot partition stays mounted at /boot:"
ls /boot
echo "What earlyfs-init did (/run/earlyfs/report):"
sed 's/^/    /' /run/earlyfs/report
if [ -e /etc/demo-batch ]; then
	echo "=== earlyfs demo done ==="
	poweroff -f
fi
echo "A shell on the real root: look around (cat /boot/etc/earlyfs.conf,"
echo "ls /boot/init.d); 'exit' powers the machine off."
setsid cttyhack sh
poweroff -f
INIT
chmod 755 sbin/init
[ "${DEMO_BATCH:-}" ] && touch etc/demo-batch
cd "$out"

"$earlyfs" image create disk.img --size 128M --boot-size 64M --root-from root
id=$(sfdisk --disk-id disk.img | sed 's/^0x//')
"$earlyfs" provision disk.img --partition 1 --root "PARTUUID=$id-02" \
	--kernel "$kernel" --menu-timeout 3
"$earlyfs" status disk.img --partition 1
if [ "${DEMO_BATCH:-}" ]; then
	exec timeout 120 qemu-system-x86_64 -machine pc -m 256 -display none \
		-monitor none -serial stdio -no-reboot \
		-drive file=disk.img,format=raw,if=virtio < /dev/null
fi
echo
echo "Booting $out/disk.img in QEMU, serial console on this terminal."
echo "At extlinux's 'boot:' prompt, Enter boots earlyfs; 'rescue' gives"
echo "busybox's shell on the boot partition.  Quit QEMU: Ctrl-A, then X."
sleep 2
exec qemu-system-x86_64 -machine pc -m 256 -nographic -no-reboot \
	-drive file=disk.img,format=raw,if=virtio
