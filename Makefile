# SPDX-License-Identifier: GPL-2.0
#
# Top-level build for toytcp.
#
#   make          module/toytcp.ko and tools/toytcp
#   make check    selftests in QEMU (KTAP, last line "N passed, N failed")
#   make demo     boot a VM, load toytcp, run a server and a client
#   make lint     checkpatch --strict and sparse on module/
#
# KVER is the kernel the module is built for.  On a machine running a Debian
# kernel whose headers are installed it is that kernel; otherwise it is the
# newest Debian kernel installed under /boot, which is the one the QEMU VM boots.

TOP := $(CURDIR)
BUILD := $(TOP)/build
export BUILD

# KVER/KDIR are worked out at recipe time by scripts/kver.sh, after
# scripts/install-deps.sh may have installed the headers.  Override with
# "make KVER=6.1.0-xx-amd64".
KVER ?=
export KVER
KDIR = $$($(TOP)/scripts/kver.sh --kdir)

.PHONY: all module tools selftests deps-build check demo bench lint clean install

all: module tools

deps-build:
	@$(TOP)/scripts/install-deps.sh build

module: deps-build
	$(MAKE) -C $(KDIR) M=$(TOP) W=1 modules

tools:
	$(MAKE) -C tools

selftests: all
	$(MAKE) -C selftests

check:
	@$(TOP)/scripts/install-deps.sh vm
	$(MAKE) selftests
	$(TOP)/selftests/vm/check.sh

demo:
	@$(TOP)/scripts/install-deps.sh vm
	$(MAKE) all
	$(TOP)/selftests/vm/demo.sh

lint: module
	$(TOP)/scripts/lint.sh

install: module tools
	$(MAKE) -C $(KDIR) M=$(TOP) modules_install
	depmod -a $$($(TOP)/scripts/kver.sh)
	install -m 0755 tools/toytcp /usr/local/bin/toytcp

clean:
	-$(MAKE) -C $(KDIR) M=$(TOP) clean
	$(MAKE) -C tools clean
	-$(MAKE) -C selftests clean
	rm -rf $(BUILD)
