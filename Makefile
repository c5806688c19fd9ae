# SPDX-License-Identifier: GPL-2.0
#
# Top-level build for toytcp.
#
#   make          module/toytcp.ko and tools/toytcp
#   make check    selftests in QEMU on Debian's kernel and on a debug kernel
#                 (KTAP, last line "N passed, N failed, N skipped")
#   make demo     boot a VM, load toytcp, run a server and a client
#   make bench    toytcp and the kernel's TCP side by side in one VM boot
#                 (BENCH_ONLY=rr,crr BENCH_SECONDS=N ...: selftests/vm/bench.sh)
#   make lint     checkpatch --strict and sparse on module/
#
# KVER is the kernel the module is built for: the running kernel when its
# headers are installed (a test VM), otherwise the newest Debian kernel
# installed under /boot, which is the one the QEMU VM boots.  "make
# KVER=6.12.57+deb13-amd64" or "make KDIR=/path/to/kernel/build" chooses
# another.
#
# KERNELS chooses the stock kernels of check, demo and bench, among 6.1
# (Debian 12), 6.12 (Debian 13) and sid (the newest Debian kernel):
# "make check KERNELS='6.1 sid'".  check runs all three by default, demo and
# bench one, 6.1.  scripts/kernels.sh fetches the other releases' kernels
# and compilers into ~/.cache/toytcp.

TOP := $(CURDIR)
# Another build directory (BUILD=... in the environment or on the command
# line) gives a check run of its own: the VM lock is per build directory.
BUILD ?= $(TOP)/build
override BUILD := $(abspath $(BUILD))
export BUILD

# KVER/KDIR are worked out at recipe time by scripts/kver.sh, after
# scripts/install-deps.sh may have installed the headers.  Override with
# "make KVER=6.1.0-xx-amd64".
KVER ?=
export KVER
KDIR ?= $$($(TOP)/scripts/kver.sh --kdir)
export KERNELS FLAVOURS

# The debug kernel flavour of the VM (scripts/debug-kernel.sh, built once
# per machine outside the tree) and toytcp.ko and the helper modules built
# against it, in $(BUILD)/debug.  kbuild writes objects next to the
# sources, so the module's sources are copied there (only those that
# changed, so that the copy's timestamps tell kbuild what to rebuild).
DEBUG_OUT := $(BUILD)/debug
DEBUG_KDIR = $$($(TOP)/scripts/debug-kernel.sh --kdir)
MODULE_SRCS := $(filter-out %.mod.c,$(wildcard module/Kbuild module/*.[ch] module/uapi/*.h))

.PHONY: all module tools selftests deps-build check demo bench lint clean install
.PHONY: dkms-install dkms-remove dkms-source
.PHONY: debug-kernel debug-modules

all: module tools

deps-build:
	@$(TOP)/scripts/install-deps.sh build

module: deps-build
	$(MAKE) -C $(KDIR) M=$(TOP) W=1 modules

tools:
	$(MAKE) -C tools

selftests: all
	$(MAKE) -C selftests

# FLAVOURS=stock (or debug) runs on one kernel only; check.sh builds the
# debug kernel and modules itself (make debug-modules), so that a failure
# there is a failed test result and the stock kernel's tests still run.
check:
	@$(TOP)/scripts/install-deps.sh vm kernels $(if $(filter debug,$(or $(FLAVOURS),debug)),debug)
	$(MAKE) selftests
	$(TOP)/selftests/vm/check.sh

debug-kernel:
	@$(TOP)/scripts/install-deps.sh debug
	@$(TOP)/scripts/debug-kernel.sh build >/dev/null

# Objects built against another debug kernel (a new linux-source or
# config fragment) are thrown away: kbuild would not notice the change.
debug-modules: debug-kernel
	@set -e; kdir=$(DEBUG_KDIR); \
	if [ "$$(cat $(DEBUG_OUT)/kdir 2>/dev/null)" != "$$kdir" ]; then \
		rm -rf $(DEBUG_OUT)/module $(DEBUG_OUT)/selftests; \
		mkdir -p $(DEBUG_OUT); echo "$$kdir" >$(DEBUG_OUT)/kdir; \
	fi; \
	for f in $(MODULE_SRCS); do \
		mkdir -p $(DEBUG_OUT)/$$(dirname $$f); \
		cmp -s $$f $(DEBUG_OUT)/$$f || cp $$f $(DEBUG_OUT)/$$f; \
	done
	$(MAKE) -C $(DEBUG_KDIR) M=$(DEBUG_OUT)/module W=1 modules
	$(MAKE) -C selftests kmods KDIR=$(DEBUG_KDIR) KMOD_OUT=$(DEBUG_OUT)/selftests

demo:
	@$(TOP)/scripts/install-deps.sh vm kernels
	$(MAKE) all
	$(TOP)/selftests/vm/demo.sh

bench:
	@$(TOP)/scripts/install-deps.sh vm kernels
	$(MAKE) all
	$(TOP)/selftests/vm/bench.sh

lint: module
	$(TOP)/scripts/lint.sh

install: module tools
	$(MAKE) -C $(KDIR) M=$(TOP) modules_install
	depmod -a $$($(TOP)/scripts/kver.sh)
	$(MAKE) -C tools install PREFIX=/usr/local

# DKMS: the module's sources in /usr/src/toytcp-$(DKMS_VERSION) (DESTDIR
# for packaging), then dkms add, build and install for the running kernel;
# dkms rebuilds it for every kernel installed later (AUTOINSTALL).
DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' $(TOP)/dkms.conf)
DKMS_SRC = $(DESTDIR)/usr/src/toytcp-$(DKMS_VERSION)

dkms-source:
	rm -rf $(DKMS_SRC)
	install -d $(DKMS_SRC)/module/uapi
	install -m 0644 dkms.conf Kbuild $(DKMS_SRC)/
	install -m 0644 $(filter-out %.mod.c,$(wildcard module/*.[ch])) module/Kbuild $(DKMS_SRC)/module/
	install -m 0644 module/uapi/*.h $(DKMS_SRC)/module/uapi/

# dkms add reads /usr/src: DESTDIR is for dkms-source alone.
dkms-install: override DESTDIR :=
dkms-install: dkms-source
	-dkms remove -m toytcp -v $(DKMS_VERSION) --all >/dev/null 2>&1
	dkms add -m toytcp -v $(DKMS_VERSION)
	dkms build -m toytcp -v $(DKMS_VERSION)
	dkms install -m toytcp -v $(DKMS_VERSION)

dkms-remove:
	dkms remove -m toytcp -v $(DKMS_VERSION) --all
	rm -rf $(DKMS_SRC)

clean:
	-$(MAKE) -C $(KDIR) M=$(TOP) clean
	$(MAKE) -C tools clean
	-$(MAKE) -C selftests clean
	rm -rf $(BUILD)
