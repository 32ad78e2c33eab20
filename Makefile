# moat build. `make` builds release binaries into build/; `make test` installs what is missing,
# builds release, ASan+UBSan and fuzz variants and runs every test; `make demo` runs the netns lab.
# Sources are discovered: every src/*/*.c (except src/cmd) goes into libmoat.a, every
# src/cmd/X.c is a program X, every tests/unit/test_*.c a unit test, tests/fuzz/fuzz_*.c a fuzzer.

CC      ?= gcc
CLANG   ?= clang
PREFIX  ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
SYSTEMDDIR ?= /lib/systemd/system
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CFLAGS_COMMON := -std=gnu11 -D_GNU_SOURCE -Isrc $(WARN) -pthread -fno-strict-aliasing
LIBS    := -lpcap -lyaml -lmicrohttpd -lsqlite3 -lpthread -lm

LIB_SRC  := $(filter-out src/cmd/%,$(wildcard src/*/*.c src/*/*/*.c))
CMD_SRC  := $(wildcard src/cmd/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
BENCH_SRC := $(wildcard bench/*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
HDRS     := $(wildcard src/*/*.h src/*/*/*.h tests/unit/*.h)

# --- XDP scrubber: what the BPF build adds (issue 4) ------------------------------------------
# src/bpf/*.bpf.c is BPF C, built by clang -target bpf into build/bpf/ and turned into a libbpf
# skeleton by bpftool; it is never part of libmoat. The userspace files that include the skeleton
# and call libbpf (BPF_USER_SRC) go into their own archive, build/VARIANT/libmoat-bpf.a, so only
# what links that archive needs -lbpf; they stay out of libmoat.a and out of the fuzzers.
BPFTOOL      ?= bpftool
BPF_PROG     := src/bpf/scrub.bpf.c
BPF_OBJ      := build/bpf/scrub.bpf.o
BPF_SKEL     := build/bpf/scrub.skel.h
BPF_USER_SRC := $(wildcard src/mitigate/xdp.c src/mitigate/scrubber.c)
BPF_CFLAGS   := -O2 -g -target bpf -Wall -Werror -Isrc -I/usr/include/$(shell $(CC) -dumpmachine)
LIBS_BPF     := -lbpf
LIB_SRC      := $(filter-out src/bpf/%.bpf.c $(BPF_USER_SRC),$(LIB_SRC))

$(BPF_OBJ): $(BPF_PROG) src/bpf/scrub.h
	@mkdir -p $(dir $@)
	@echo "  BPF   $@"
	@$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BPF_SKEL): $(BPF_OBJ)
	@echo "  SKEL  $@"
	@$(BPFTOOL) gen skeleton $< name scrub > $@.tmp && mv $@.tmp $@

# per variant: the libbpf objects see build/bpf, and test_xdp links them with -lbpf (this
# explicit rule takes precedence over the generic unit-test rule)
define bpf_variant
$(1)_BPF_OBJ := $$(patsubst src/%.c,build/$(1)/obj/%.o,$$(BPF_USER_SRC))
$$($(1)_BPF_OBJ): $$(BPF_SKEL)
$$($(1)_BPF_OBJ): CFLAGS_COMMON += -Ibuild/bpf

build/$(1)/libmoat-bpf.a: $$($(1)_BPF_OBJ)
	@rm -f $$@
	@ar rcs $$@ $$^

build/$(1)/tests/test_xdp: tests/unit/test_xdp.c build/$(1)/libmoat-bpf.a build/$(1)/libmoat.a $$(BPF_SKEL) $$(HDRS)
	@mkdir -p $$(dir $$@)
	@echo "  LD    $$@"
	@$$(CC) $$(CFLAGS_COMMON) $(2) -Itests/unit -Ibuild/bpf $$< build/$(1)/libmoat-bpf.a build/$(1)/libmoat.a -o $$@ $$(LIBS) $$(LIBS_BPF)
endef
# --- end of the XDP scrubber block -------------------------------------------------------------

# --- the dashboard (issue 6) -------------------------------------------------------------------
# web/ is served by moatd at /: its files and uPlot (from the npm registry, pinned by
# web/package-lock.json) are embedded into moatd by tools/embed.sh, so nothing is fetched at run time.
WEB_NPM   := web/node_modules/.package-lock.json
WEB_FILES := web/index.html:/ web/app.js:/app.js web/style.css:/style.css \
	web/favicon.svg:/favicon.svg \
	web/node_modules/uplot/dist/uPlot.iife.min.js:/uPlot.iife.min.js \
	web/node_modules/uplot/dist/uPlot.min.css:/uPlot.min.css
WEB_SRCS  := $(foreach f,$(WEB_FILES),$(firstword $(subst :, ,$(f))))

$(WEB_NPM): web/package.json web/package-lock.json
	@echo "  NPM   web/node_modules"
	@cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(filter web/node_modules/%,$(WEB_SRCS)): $(WEB_NPM)

build/web/assets.c: tools/embed.sh $(WEB_SRCS)
	@echo "  EMBED $@"
	@sh tools/embed.sh $@ $(WEB_FILES)
# --- end of the dashboard block -----------------------------------------------------------------

# variant: release | asan
define variant
$(1)_DIR    := build/$(1)
$(1)_OBJ    := $$(patsubst src/%.c,build/$(1)/obj/%.o,$$(LIB_SRC))
$(1)_BINS   := $$(patsubst src/cmd/%.c,build/$(1)/%,$$(CMD_SRC))
$(1)_TESTS  := $$(patsubst tests/unit/%.c,build/$(1)/tests/%,$$(UNIT_SRC))
$(1)_BENCH  := $$(patsubst bench/%.c,build/$(1)/bench/%,$$(BENCH_SRC))

build/$(1)/obj/%.o: src/%.c $$(HDRS)
	@mkdir -p $$(dir $$@)
	@echo "  CC    $$@"
	@$$(CC) $$(CFLAGS_COMMON) $(2) -c $$< -o $$@

build/$(1)/libmoat.a: $$($(1)_OBJ)
	@rm -f $$@
	@ar rcs $$@ $$^

build/$(1)/web_assets.o: build/web/assets.c src/api/api.h
	@echo "  CC    $$@"
	@$$(CC) $$(CFLAGS_COMMON) $(2) -c $$< -o $$@

# moatd carries the dashboard
build/$(1)/moatd: src/cmd/moatd.c build/$(1)/web_assets.o build/$(1)/libmoat-bpf.a build/$(1)/libmoat.a $$(BPF_SKEL) $$(HDRS)
	@echo "  LD    $$@"
	@$$(CC) $$(CFLAGS_COMMON) $(2) -Ibuild/bpf $$< build/$(1)/web_assets.o build/$(1)/libmoat-bpf.a build/$(1)/libmoat.a -o $$@ $$(LIBS) $$(LIBS_BPF)

# programs and benchmarks may drive the scrubber: they see build/bpf and link libmoat-bpf.a
build/$(1)/%: src/cmd/%.c build/$(1)/libmoat-bpf.a build/$(1)/libmoat.a $$(BPF_SKEL) $$(HDRS)
	@echo "  LD    $$@"
	@$$(CC) $$(CFLAGS_COMMON) $(2) -Ibuild/bpf $$< build/$(1)/libmoat-bpf.a build/$(1)/libmoat.a -o $$@ $$(LIBS) $$(LIBS_BPF)

build/$(1)/bench/%: bench/%.c build/$(1)/libmoat-bpf.a build/$(1)/libmoat.a $$(BPF_SKEL) $$(HDRS)
	@mkdir -p $$(dir $$@)
	@echo "  LD    $$@"
	@$$(CC) $$(CFLAGS_COMMON) $(2) -Itests/unit -Ibuild/bpf $$< build/$(1)/libmoat-bpf.a build/$(1)/libmoat.a -o $$@ $$(LIBS) $$(LIBS_BPF)

build/$(1)/tests/%: tests/unit/%.c build/$(1)/libmoat.a $$(HDRS)
	@mkdir -p $$(dir $$@)
	@echo "  LD    $$@"
	@$$(CC) $$(CFLAGS_COMMON) $(2) -Itests/unit $$< build/$(1)/libmoat.a -o $$@ $$(LIBS)
endef

RELEASE_FLAGS := -O2 -g -march=x86-64-v2
ASAN_FLAGS    := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
$(eval $(call variant,release,$(RELEASE_FLAGS)))
$(eval $(call variant,asan,$(ASAN_FLAGS)))
$(eval $(call bpf_variant,release,$(RELEASE_FLAGS))) # XDP scrubber block above
$(eval $(call bpf_variant,asan,$(ASAN_FLAGS)))

FUZZ_BINS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
FUZZ_FLAGS := -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
# the library is compiled once for every fuzzer, instrumented (fuzzer-no-link), into its archive
FUZZ_LIB_FLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_OBJ := $(patsubst src/%.c,build/fuzz/obj/%.o,$(LIB_SRC))
build/fuzz/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC    $@"
	@$(CLANG) $(CFLAGS_COMMON) $(FUZZ_LIB_FLAGS) -c $< -o $@
build/fuzz/libmoat.a: $(FUZZ_OBJ)
	@rm -f $@
	@ar rcs $@ $^
build/fuzz/%: tests/fuzz/%.c build/fuzz/libmoat.a $(HDRS)
	@mkdir -p $(dir $@)
	@echo "  FUZZ  $@"
	@$(CLANG) $(CFLAGS_COMMON) $(FUZZ_FLAGS) $< build/fuzz/libmoat.a -o $@ $(LIBS)

.PHONY: all release asan fuzz deps test unit demo bench install clean format check-format
all: release
release: $(release_BINS) $(release_TESTS) $(release_BENCH)
asan: $(asan_BINS) $(asan_TESTS)
fuzz: $(FUZZ_BINS)

deps:
	@sh tools/deps.sh

test: deps
	$(MAKE) -j$$(nproc) release asan fuzz
	@sh tests/run.sh

unit: release asan
	@ONLY=unit sh tests/run.sh

demo: deps
	$(MAKE) -j$$(nproc) release
	@sh tools/demo.sh

bench: deps release
	@sh bench/run-all.sh

install: release
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SYSCONFDIR)/moat \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/doc/moat \
		$(DESTDIR)$(SYSTEMDDIR)
	install -m 755 build/release/moatd $(DESTDIR)$(SBINDIR)/moatd
	install -m 755 build/release/moatctl $(DESTDIR)$(SBINDIR)/moatctl
	install -m 755 build/release/moat-gen $(DESTDIR)$(PREFIX)/bin/moat-gen
	install -m 644 docs/man/moat-gen.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 docs/man/moat.yaml.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 docs/man/moatd.8 docs/man/moatctl.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 644 examples/moat.yaml examples/notify.sh docs/moat.yaml.md docs/ARCHITECTURE.md \
		docs/api.md docs/metrics.md \
		$(DESTDIR)$(PREFIX)/share/doc/moat/
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' dist/moatd.service \
		> $(DESTDIR)$(SYSTEMDDIR)/moatd.service.tmp
	chmod 644 $(DESTDIR)$(SYSTEMDDIR)/moatd.service.tmp
	mv $(DESTDIR)$(SYSTEMDDIR)/moatd.service.tmp $(DESTDIR)$(SYSTEMDDIR)/moatd.service
# the example config names /etc/moat/notify.sh; neither replaces a file already there
	[ -e $(DESTDIR)$(SYSCONFDIR)/moat/moat.yaml ] || \
		install -m 640 examples/moat.yaml $(DESTDIR)$(SYSCONFDIR)/moat/moat.yaml
	[ -e $(DESTDIR)$(SYSCONFDIR)/moat/notify.sh ] || \
		install -m 755 examples/notify.sh $(DESTDIR)$(SYSCONFDIR)/moat/notify.sh

# everything install put there except the config in $(SYSCONFDIR)/moat, which stays (as dpkg does)
.PHONY: uninstall
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/moatd $(DESTDIR)$(SBINDIR)/moatctl $(DESTDIR)$(PREFIX)/bin/moat-gen \
		$(DESTDIR)$(PREFIX)/share/man/man1/moat-gen.1 $(DESTDIR)$(PREFIX)/share/man/man5/moat.yaml.5 \
		$(DESTDIR)$(PREFIX)/share/man/man8/moatd.8 $(DESTDIR)$(PREFIX)/share/man/man8/moatctl.8 \
		$(DESTDIR)$(SYSTEMDDIR)/moatd.service
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/moat

format:
	clang-format -i $(LIB_SRC) $(CMD_SRC) $(HDRS) $(UNIT_SRC) $(FUZZ_SRC)

check-format:
	@clang-format --dry-run --Werror $(LIB_SRC) $(CMD_SRC) $(HDRS) $(UNIT_SRC) $(FUZZ_SRC)

clean:
	rm -rf build
