# earlyfs: build, dependencies, tests, benchmarks.  See README.md.
VERSION := 0.1.0
CC ?= cc
# The runner is static; musl keeps it small.  Fall back to the host cc.
INIT_CC ?= $(shell command -v musl-gcc 2>/dev/null || echo $(CC))
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CFLAGS ?= -O2 -g
# Where `make install` puts the CLI, and the data provisioning copies
# (templates, fragments, earlyfs-init); compiled into earlyfs.
PREFIX ?= /usr/local
DATADIR ?= /usr/share/earlyfs
MANDIR ?= $(PREFIX)/share/man
SYSTEMDDIR ?= /lib/systemd/system
# the init script: OpenRC's (openrc), or an LSB one for sysvinit (sysv)
INIT_STYLE ?= openrc
INITDIR ?= /etc/init.d
# earlyfs-init, the static runner provisioning copies (Debian's package:
# /usr/lib/earlyfs, binaries stay out of /usr/share)
LIBEXECDIR ?= $(DATADIR)
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
SYSCONFDIR ?= /etc
KERNELINSTALLDIR ?= /usr/lib/kernel/install.d
CPPFLAGS_ALL := -std=gnu11 -D_GNU_SOURCE -DEARLYFS_VERSION='"$(VERSION)"' \
	-DEARLYFS_DATADIR='"$(DATADIR)"' \
	-DEARLYFS_LIBEXECDIR='"$(LIBEXECDIR)"' -Isrc/lib
B := build

LIB_SRC := $(wildcard src/lib/*.c)
LIB_HDR := $(wildcard src/lib/*.h)
INIT_SRC := $(wildcard src/init/*.c)
INIT_HDR := $(wildcard src/init/*.h)
ADMIN_SRC := $(wildcard src/admin/*.c src/admin/*/*.c)
ADMIN_HDR := $(wildcard src/admin/*.h src/admin/*/*.h)
CLI_SRC := $(wildcard src/cli/*.c)
DAEMON_SRC := $(wildcard src/daemon/*.c)
ADMIN_LIBS := -lblkid -lfdisk -lext2fs -lcom_err
# paths are PATH_MAX-bounded; a truncated one fails its lookup, never overflows
ADMIN_WARN := $(WARN) -Wno-format-truncation
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
# libFuzzer harnesses of every src/lib parser (clang, ASan + UBSan)
FUZZ_CC ?= clang
FUZZ_FLAGS := -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRC))
FUZZ_LIB_OBJ := $(patsubst src/lib/%.c,$(B)/fuzz/lib/%.o,$(LIB_SRC))
FUZZ_SECONDS ?= 60

# Debian packages the build and the tests need (make deps installs them).
DEPS := build-essential musl-tools libblkid-dev libfdisk-dev libext2fs-dev \
	e2fsprogs fdisk util-linux busybox-static syslinux syslinux-common \
	extlinux user-mode-linux qemu-system-x86 qemu-utils linux-source-6.1 \
	flex bison bc libelf-dev libssl-dev xz-utils python3 cpio kmod \
	clang libclang-rt-14-dev debootstrap cryptsetup-bin mdadm \
	dropbear-bin openssh-client zstd strace \
	ovmf systemd-boot-efi dosfstools mtools efibootmgr sbsigntool efitools \
	shim-signed grub-efi-amd64-signed grub-efi-amd64-bin grub-pc-bin \
	grub-common grub2-common debhelper lintian dpkg-dev ansible-core

.PHONY: all deps check check-unit check-boot check-cli check-fuzz fuzz bench bench-trace kernel stock-kernel clean demo install uninstall deb

all: $(B)/earlyfs-init $(B)/earlyfs $(B)/earlyfsd

# Host build of the library: unit tests and (later) the management tools.
$(B)/host/%.o: src/lib/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CPPFLAGS) $(CFLAGS) $(WARN) -c $< -o $@
$(B)/host/libearlyfs.a: $(patsubst src/lib/%.c,$(B)/host/%.o,$(LIB_SRC))
	ar rcs $@ $^

# Static build for PID 1: the same library sources, the runner, libc only.
# Small, but SHA-256 fast: a sealed boot hashes every byte of the partition
# (-O2 there: about 1.2x on the host).
INIT_OPT = -Os
$(B)/static/lib/sha256.o $(B)/profile/lib/sha256.o: INIT_OPT = -O2
$(B)/static/lib/%.o: src/lib/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(INIT_CC) $(CPPFLAGS_ALL) $(CFLAGS) $(INIT_OPT) $(WARN) -c $< -o $@
$(B)/static/init/%.o: src/init/%.c $(LIB_HDR) $(INIT_HDR)
	@mkdir -p $(@D)
	$(INIT_CC) $(CPPFLAGS_ALL) $(CFLAGS) -Os $(WARN) -c $< -o $@
# from an archive: what PID 1 never calls is left out
$(B)/static/libearlyfs.a: $(patsubst src/lib/%.c,$(B)/static/lib/%.o,$(LIB_SRC))
	rm -f $@
	ar rcs $@ $^
$(B)/earlyfs-init: $(patsubst src/init/%.c,$(B)/static/init/%.o,$(INIT_SRC)) \
		$(B)/static/libearlyfs.a
	$(INIT_CC) -static -o $@ $^
	cp $@ $@.debug
	strip $@

# make bench's native run of the sealed boot's verification (bench/seal.py)
$(B)/bench/sealscan: bench/sealscan.c $(B)/static/libearlyfs.a $(LIB_HDR)
	@mkdir -p $(@D)
	$(INIT_CC) $(CPPFLAGS_ALL) $(CFLAGS) -Os $(WARN) -static $< \
		$(B)/static/libearlyfs.a -o $@

# The same runner with stage timestamps (src/init/profile.h), for make bench.
$(B)/profile/%.o: src/%.c $(LIB_HDR) $(INIT_HDR)
	@mkdir -p $(@D)
	$(INIT_CC) $(CPPFLAGS_ALL) -DEARLYFS_PROFILE $(CFLAGS) $(INIT_OPT) $(WARN) -c $< -o $@
$(B)/profile/libearlyfs.a: $(patsubst src/lib/%.c,$(B)/profile/lib/%.o,$(LIB_SRC))
	rm -f $@
	ar rcs $@ $^
$(B)/earlyfs-init-profile: $(patsubst src/init/%.c,$(B)/profile/init/%.o,$(INIT_SRC)) \
		$(B)/profile/libearlyfs.a
	$(INIT_CC) -static -o $@ $^
	strip $@

# The management tools: src/admin links libblkid, libfdisk, libext2fs.
$(B)/admin/%.o: src/admin/%.c $(LIB_HDR) $(ADMIN_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) -Isrc/admin $(CPPFLAGS) $(CFLAGS) $(ADMIN_WARN) -c $< -o $@
$(B)/cli/%.o: src/cli/%.c $(LIB_HDR) $(ADMIN_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) -Isrc/admin $(CPPFLAGS) $(CFLAGS) $(ADMIN_WARN) -c $< -o $@
$(B)/earlyfs: $(patsubst src/cli/%.c,$(B)/cli/%.o,$(CLI_SRC)) \
		$(patsubst src/admin/%.c,$(B)/admin/%.o,$(ADMIN_SRC)) $(B)/host/libearlyfs.a
	$(CC) $(LDFLAGS) -o $@ $^ $(ADMIN_LIBS)

# The daemon: the same management library, its own event loop.
$(B)/daemon/%.o: src/daemon/%.c $(LIB_HDR) $(ADMIN_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) -Isrc/admin $(CPPFLAGS) $(CFLAGS) $(ADMIN_WARN) -c $< -o $@
$(B)/earlyfsd: $(patsubst src/daemon/%.c,$(B)/daemon/%.o,$(DAEMON_SRC)) \
		$(patsubst src/admin/%.c,$(B)/admin/%.o,$(ADMIN_SRC)) $(B)/host/libearlyfs.a
	$(CC) $(LDFLAGS) -o $@ $^ $(ADMIN_LIBS)

$(B)/tests/%: tests/unit/%.c tests/unit/check.h $(B)/host/libearlyfs.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS) $(WARN) -Itests/unit $< $(B)/host/libearlyfs.a -o $@

$(B)/fuzz/lib/%.o: src/lib/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS_ALL) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) $(CPPFLAGS_ALL) $(FUZZ_FLAGS) -fsanitize=fuzzer $< $(FUZZ_LIB_OBJ) -o $@

# src/admin's validators (fuzz_validate.c): the management objects too
FUZZ_ADMIN_OBJ := $(patsubst src/admin/%.c,$(B)/fuzz/admin/%.o,$(ADMIN_SRC))
$(B)/fuzz/admin/%.o: src/admin/%.c $(LIB_HDR) $(ADMIN_HDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS_ALL) -Isrc/admin $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(B)/fuzz/fuzz_validate: tests/fuzz/fuzz_validate.c tests/fuzz/fuzz.h $(FUZZ_LIB_OBJ) $(FUZZ_ADMIN_OBJ)
	$(FUZZ_CC) $(CPPFLAGS_ALL) -Isrc/admin $(FUZZ_FLAGS) -fsanitize=fuzzer $< \
		$(FUZZ_ADMIN_OBJ) $(FUZZ_LIB_OBJ) $(ADMIN_LIBS) -o $@

# Idempotent: installs only what is missing, after apt-get update.
deps:
	@missing=$$(for p in $(DEPS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q '^install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "deps: all packages present"; \
	else echo "deps: installing $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends $$missing; fi
	@$(MAKE) --no-print-directory stock-kernel

# Debian's stock kernels, unpacked (not installed): the generic one
# (linux-image-amd64: disk drivers, ext4 and crc32c as modules) in
# $(STOCK), the cloud one (disk drivers as modules, ext4 built in) in
# $(STOCK)-cloud.  check-kernel must refuse both; kernel add gives them
# a module stub.
STOCK := $(or $(EARLYFS_CACHE),/var/cache/earlyfs)/stock-kernel
define unpack_kernel
	@if ls $(2)/boot/config-* >/dev/null 2>&1; then \
		echo "stock-kernel: present in $(2)"; \
	else \
		set -e; apt-get update -qq; \
		pkg=$$(apt-cache depends $(1) | \
			sed -n 's/.*Depends: \(linux-image-[0-9][^ ]*\)/\1/p' | head -n 1); \
		echo "stock-kernel: unpacking $$pkg into $(2)"; \
		rm -rf $(2).tmp; mkdir -p $(2).tmp; \
		chown _apt $(2).tmp 2>/dev/null || true; \
		(cd $(2).tmp && apt-get download -qq "$$pkg" && \
		 dpkg-deb -x ./*.deb unpacked && rm -f ./*.deb); \
		rm -rf $(2); mv $(2).tmp/unpacked $(2); rm -rf $(2).tmp; \
	fi
endef
stock-kernel:
	$(call unpack_kernel,linux-image-amd64,$(STOCK))
	$(call unpack_kernel,linux-image-cloud-amd64,$(STOCK)-cloud)

kernel:
	tests/kernel/build.sh

check-unit: $(UNIT_BIN)
	python3 -m tests.layering
	tests/unit/run.sh $(UNIT_BIN)

check-boot: $(B)/earlyfs-init kernel
	python3 -m tests.boot.run

check-cli: all kernel stock-kernel
	python3 -m tests.cli.run

# the seed corpus replayed under the sanitizers (seconds)
check-fuzz: $(FUZZ_BIN)
	tests/fuzz/run.sh replay $(FUZZ_BIN)

# each harness FUZZ_SECONDS (default 60) from its corpus
fuzz: $(FUZZ_BIN)
	tests/fuzz/run.sh fuzz $(FUZZ_SECONDS) $(FUZZ_BIN)

check: deps
	$(MAKE) --no-print-directory all $(UNIT_BIN) $(FUZZ_BIN) kernel
	tests/run-all.sh $(UNIT_BIN)

bench: all $(B)/earlyfs-init-profile $(B)/bench/sealscan kernel
	python3 -m bench.provision
	python3 -m bench.boot
	python3 -m bench.commit
	python3 -m bench.features
	python3 -m bench.kernels
	python3 -m bench.loaders
	python3 -m bench.dpkg
	python3 -m bench.seal

# The runner's early stage system call by system call, from a test kernel
# with tracepoints (bench/trace-kernel.sh builds it once, cached).
bench-trace: all
	python3 -m bench.trace

demo: deps
	$(MAKE) --no-print-directory all kernel
	demo/demo.sh

# DATADIR is compiled in: give the same DATADIR to make and make install.
# The Debian package, built from a copy of the tree (debian/rules builds
# with the package's paths; this tree's build/ stays as it is), left in
# build/ and checked by lintian.
deb:
	rm -rf $(B)/deb && mkdir -p $(B)/deb/earlyfs-$(VERSION)
	tar -c --exclude=./build --exclude=./.git . | \
		tar -x -C $(B)/deb/earlyfs-$(VERSION)
	cd $(B)/deb/earlyfs-$(VERSION) && dpkg-buildpackage -us -uc -b
	cp $(B)/deb/earlyfs_$(VERSION)_*.deb \
		$(B)/deb/earlyfs-initramfs-tool_$(VERSION)_all.deb $(B)/
	lintian --fail-on error,warning $(B)/deb/earlyfs_$(VERSION)_*.changes

# What `make install` puts where (`make uninstall` removes the same).
SBIN_FILES := earlyfs earlyfsd
MAN_FILES := man8/earlyfs.8 man8/earlyfs-init.8 man8/earlyfsd.8 \
	man5/earlyfs-fragments.5
KERNEL_HOOKS := $(SYSCONFDIR)/kernel/postinst.d/zz-earlyfs \
	$(SYSCONFDIR)/kernel/prerm.d/zz-earlyfs \
	$(SYSCONFDIR)/kernel/postrm.d/zz-earlyfs \
	$(KERNELINSTALLDIR)/90-earlyfs.install
DATA_FILES := $(addprefix templates/,$(notdir $(wildcard templates/*))) \
	$(wildcard init.d/[0-9][0-9]-*) init.d/README
OTHER_FILES := $(LIBEXECDIR)/earlyfs-init $(SYSTEMDDIR)/earlyfsd.service \
	$(INITDIR)/earlyfsd $(SYSCONFDIR)/dpkg/dpkg.cfg.d/earlyfs \
	$(BASHCOMPDIR)/earlyfs
install: all
	install -D -m 0755 -t $(DESTDIR)$(PREFIX)/sbin $(addprefix $(B)/,$(SBIN_FILES))
	install -D -m 0755 $(B)/earlyfs-init $(DESTDIR)$(LIBEXECDIR)/earlyfs-init
	install -d $(DESTDIR)$(DATADIR)/templates $(DESTDIR)$(DATADIR)/init.d
	for f in $(DATA_FILES); do \
		install -m $$(test -x $$f && echo 0755 || echo 0644) $$f \
			$(DESTDIR)$(DATADIR)/$$f; done
	for h in $(KERNEL_HOOKS); do \
		install -D -m 0755 bootloader/earlyfs-kernel-hook $(DESTDIR)$$h; done
	install -D -m 0644 bootloader/earlyfs-dpkg.cfg \
		$(DESTDIR)$(SYSCONFDIR)/dpkg/dpkg.cfg.d/earlyfs
	for m in $(MAN_FILES); do \
		install -D -m 0644 docs/$$(basename $$m) $(DESTDIR)$(MANDIR)/$$m; done
	install -D -m 0644 src/cli/earlyfs.bash-completion \
		$(DESTDIR)$(BASHCOMPDIR)/earlyfs
	install -d $(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(INITDIR)
	sed 's|@SBINDIR@|$(PREFIX)/sbin|' src/daemon/earlyfsd.service > $(DESTDIR)$(SYSTEMDDIR)/earlyfsd.service
	sed 's|@SBINDIR@|$(PREFIX)/sbin|' src/daemon/earlyfsd.$(INIT_STYLE) > $(DESTDIR)$(INITDIR)/earlyfsd
	chmod 0755 $(DESTDIR)$(INITDIR)/earlyfsd

# Give it the variables install had.  What earlyfs wrote on a boot
# partition or an ESP is not touched: 'earlyfs loader remove' first.
uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/sbin/,$(SBIN_FILES)) \
		$(addprefix $(DESTDIR)$(MANDIR)/,$(MAN_FILES)) \
		$(addprefix $(DESTDIR),$(KERNEL_HOOKS) $(OTHER_FILES)) \
		$(addprefix $(DESTDIR)$(DATADIR)/,$(DATA_FILES))
	-rmdir $(DESTDIR)$(DATADIR)/templates $(DESTDIR)$(DATADIR)/init.d \
		$(DESTDIR)$(DATADIR) $(DESTDIR)$(LIBEXECDIR) 2>/dev/null

clean:
	rm -rf $(B)
