# SPDX-License-Identifier: GPL-2.0-only
# ntfw: plain make.  `make` builds into build/; `sudo make check` and
# `sudo make demo` install their own Debian packages first.

VERSION := $(shell cat VERSION)
PREFIX ?= /usr
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/ntfw
SYSCONFDIR ?= /etc/ntfw
UNITDIR ?= /lib/systemd/system
LOGROTATEDIR ?= /etc/logrotate.d
DESTDIR ?=
B := build
# `make SAN=1 ...`: AddressSanitizer and UndefinedBehaviorSanitizer, in a
# build directory of its own so that the normal build stays as it is.
ifeq ($(SAN),1)
B := build-san
endif

CC ?= cc
PKG_CONFIG ?= pkg-config
CFLAGS ?= -O2 -g
# What the sources need, kept apart from CFLAGS so that `make CFLAGS=...`
# (which overrides every assignment to CFLAGS) cannot drop _GNU_SOURCE.
NTFW_CFLAGS := -std=gnu11 -Wall -Wextra -Wshadow -Wformat=2 -Wno-unused-parameter \
	  -Werror=implicit-function-declaration \
	  -D_GNU_SOURCE -DNTFW_VERSION='"$(VERSION)"' \
	  -DNTFW_CONF='"$(SYSCONFDIR)/ntfw.conf"' -MMD -MP
JANSSON_CFLAGS := $(shell $(PKG_CONFIG) --cflags jansson 2>/dev/null)
JANSSON_LIBS := $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null || echo -ljansson)
NTFW_CFLAGS += $(JANSSON_CFLAGS)
ifeq ($(SAN),1)
NTFW_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	  -fno-sanitize-recover=all
endif
ALL_CFLAGS = $(NTFW_CFLAGS) $(CPPFLAGS) $(CFLAGS)
LIBS := $(shell $(PKG_CONFIG) --libs libmnl libnetfilter_queue 2>/dev/null || \
	  echo -lmnl -lnetfilter_queue) $(JANSSON_LIBS) -lpcap -lpthread
PRIV_LIBS := -lcap-ng -lseccomp
BPF_LIBS := $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null || echo -lbpf)

# The eBPF producer of the fast-path records (bpf/), compiled for the BPF
# target and embedded in ntfw as a libbpf skeleton (bpftool gen skeleton).
# Types from bpf/ntfw_vmlinux.h (CO-RE): no BTF of the build machine needed.
BPF_CLANG ?= clang
BPFTOOL ?= bpftool
BPF_ARCH_INC := /usr/include/$(shell $(CC) -print-multiarch 2>/dev/null)
BPF_CFLAGS := -target bpf -O2 -g -Wall -Werror -I$(BPF_ARCH_INC)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)

ifeq ($(V),1)
Q :=
else
Q := @
endif

CORE := conf parse policy lookup ifcache log features flow limiter relate engine stats record feed kring json evlog
DAEMON := $(CORE) nfq worker reload offline snap ctlproto ctl metrics priv bpffeed main
UNIT_TESTS := test_conf test_parse test_policy test_flow test_features test_nfq test_state test_attack test_kring test_evlog test_ctl

CORE_OBJ := $(CORE:%=$(B)/%.o)
DAEMON_OBJ := $(DAEMON:%=$(B)/%.o)

all: $(B)/ntfw $(B)/ntfw-rules $(B)/ntfwctl

$(B):
	$(Q)mkdir -p $@

$(B)/%.o: src/%.c | $(B)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/ntfw: $(DAEMON_OBJ)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDFLAGS) $(LIBS) $(PRIV_LIBS) $(BPF_LIBS)

$(B)/bpf/ntfw_feed.bpf.o: bpf/ntfw_feed.bpf.c bpf/ntfw_vmlinux.h kmod/ntfw_ring.h
	@mkdir -p $(B)/bpf
	@$(if $(Q),echo "  BPF     $@")
	$(Q)$(BPF_CLANG) $(BPF_CFLAGS) -c -o $@ $<

$(B)/ntfw_feed.skel.h: $(B)/bpf/ntfw_feed.bpf.o
	@$(if $(Q),echo "  GEN     $@")
	$(Q)$(BPFTOOL) gen skeleton $< name ntfw_feed_bpf > $@.tmp && mv $@.tmp $@

$(B)/bpffeed.o: src/bpffeed.c $(B)/ntfw_feed.skel.h | $(B)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -I$(B) -c -o $@ $<

$(B)/ntfwctl: $(B)/ntfwctl.o $(B)/ctlproto.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDFLAGS) $(JANSSON_LIBS)

# The build copy reads the rules from this tree; `install` bakes DATADIR.
$(B)/ntfw-rules: rules/ntfw-rules.in VERSION | $(B)
	@$(if $(Q),echo "  GEN     $@")
	$(Q)sed -e 's|@RULESDIR@|$(CURDIR)/rules|g' -e 's|@VERSION@|$(VERSION)|g' $< > $@
	$(Q)chmod +x $@

$(B)/test_%.o: tests/unit/test_%.c | $(B)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -iquote src -c -o $@ $<

$(B)/test_%: $(B)/test_%.o $(CORE_OBJ)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDFLAGS) $(CMOCKA_LIBS)

# The queue's messages, without a socket: nfq.o and its libraries.
$(B)/test_nfq: $(B)/test_nfq.o $(B)/nfq.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDFLAGS) $(LIBS) $(CMOCKA_LIBS)

# The control socket's request parser, with jansson.
$(B)/test_ctl: $(B)/test_ctl.o $(B)/ctlproto.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDFLAGS) $(JANSSON_LIBS) $(CMOCKA_LIBS)

tests: $(UNIT_TESTS:%=$(B)/%)

# libFuzzer harnesses (clang): `make fuzz` builds them, and
# `make fuzz FUZZ_SECONDS=600` also runs each for that long (fuzz-run:
# 60 s each).  A harness's sources and libraries besides CORE are in
# FUZZ_LIBS_<name>.
FUZZ_CC ?= clang
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	      -std=gnu11 -D_GNU_SOURCE -iquote src $(JANSSON_CFLAGS)
FUZZERS := fuzz_parse fuzz_conf fuzz_capture fuzz_ctl fuzz_kring
FUZZ_LIBS_fuzz_capture := src/priv.c -lpcap $(JANSSON_LIBS) -lcap-ng -lseccomp
FUZZ_LIBS_fuzz_ctl := src/ctlproto.c $(JANSSON_LIBS)
FUZZ_LIBS_fuzz_kring := $(JANSSON_LIBS)

$(B)/fuzz/%: tests/fuzz/%.c $(wildcard src/*.c src/*.h tests/unit/pkt.h)
	@mkdir -p $(B)/fuzz
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(CORE:%=src/%.c) $(FUZZ_LIBS_$*)

fuzz: $(FUZZERS:%=$(B)/fuzz/%)
ifneq ($(FUZZ_SECONDS),)
	$(Q)for f in $(FUZZERS); do FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $$f || exit 1; done
endif

fuzz-run:
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60)

# Debian packages the build and the tests need; installed when missing.
deps:
	$(Q)tests/deps.sh

ifeq ($(SAN),1)
# The fuzzers are sanitized builds already, and the vm tier boots a kernel:
# tests/run.sh skips both under NTFW_SAN.
check: deps
	$(Q)$(MAKE) --no-print-directory SAN=1 B=$(B) all tests
	$(Q)BUILD=$(abspath $(B)) NTFW_SAN=1 tests/run.sh
else
check: deps
	$(Q)$(MAKE) --no-print-directory all tests fuzz FUZZ_SECONDS=
	$(Q)tests/run.sh
endif

# Debian's stock kernel under qemu (TCG): the nft queue ruleset, the
# conntrack glue and kmod/, which this machine's kernel cannot load; then
# the newest kernel of bookworm-backports, where the module and the eBPF
# feed run side by side (a SKIP, exit 77, when backports is out of reach).
# `make check` runs both too, as the tiers vm/kernel and vm/kernel-bpo.
kmod-check: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/vm/run.sh
	$(Q)tests/vm/run.sh bpo; rc=$$?; [ $$rc = 0 ] || [ $$rc = 77 ]

# Benchmarks: not part of check (timed results need a quiet machine).
BENCH_TOOLS := $(B)/bench/udpflood $(B)/bench/udpsink $(B)/bench/tcpbench \
	       $(B)/bench/nf-queue
NFQ_EXAMPLE := /usr/share/doc/libnetfilter-queue-dev/examples/nf-queue.c

$(B)/bench/%: bench/%.c
	@mkdir -p $(B)/bench
	$(Q)$(CC) -O2 -Wall -D_GNU_SOURCE -o $@ $<

# The baseline: libnetfilter_queue's own example, as Debian ships it.
$(B)/bench/nf-queue: $(NFQ_EXAMPLE)
	@mkdir -p $(B)/bench
	$(Q)$(CC) -O2 -o $@ $< $(LIBS)

bench: deps
	$(Q)$(MAKE) --no-print-directory all $(BENCH_TOOLS)
	$(Q)bench/run.sh

# Soak: mixed traffic and a reload a second for SOAK_SECONDS; not part
# of check (tests/netns/soak_short runs 15 s of it there).
SOAK_SECONDS ?= 60
soak: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)SOAK_SECONDS=$(SOAK_SECONDS) bash tests/soak.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/demo.sh

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(DATADIR) \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(SYSCONFDIR)
	install -m 755 $(B)/ntfw $(DESTDIR)$(SBINDIR)/ntfw
	install -m 755 $(B)/ntfwctl $(DESTDIR)$(SBINDIR)/ntfwctl
	sed -e 's|@RULESDIR@|$(DATADIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
		rules/ntfw-rules.in > $(DESTDIR)$(SBINDIR)/ntfw-rules
	chmod 755 $(DESTDIR)$(SBINDIR)/ntfw-rules
	install -m 644 rules/*.nft rules/*.rules $(DESTDIR)$(DATADIR)/
	install -m 644 man/ntfw.8 man/ntfw-rules.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 man/ntfwctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 man/ntfw.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -d $(DESTDIR)$(UNITDIR)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		conf/ntfw.service > $(DESTDIR)$(UNITDIR)/ntfw.service
	install -d $(DESTDIR)$(LOGROTATEDIR)
	install -m 644 conf/ntfw.logrotate $(DESTDIR)$(LOGROTATEDIR)/ntfw
	[ -e $(DESTDIR)$(SYSCONFDIR)/ntfw.conf ] || \
		install -m 644 conf/ntfw.conf $(DESTDIR)$(SYSCONFDIR)/ntfw.conf

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/ntfwctl $(DESTDIR)$(MANDIR)/man8/ntfwctl.8
	rm -f $(DESTDIR)$(SBINDIR)/ntfw $(DESTDIR)$(SBINDIR)/ntfw-rules \
		$(DESTDIR)$(MANDIR)/man8/ntfw.8 $(DESTDIR)$(MANDIR)/man8/ntfw-rules.8 \
		$(DESTDIR)$(MANDIR)/man5/ntfw.conf.5 $(DESTDIR)$(UNITDIR)/ntfw.service \
		$(DESTDIR)$(LOGROTATEDIR)/ntfw
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf $(B)

.PHONY: all tests fuzz fuzz-run deps check kmod-check bench soak demo install uninstall clean
.SECONDARY:

-include $(wildcard $(B)/*.d)
