# nemo-mcp - MCP server for the NemoVideo AI backend.
#
#   make            build build/nemo-mcp (installs missing -dev packages)
#   make test       every test, plus unit + integration against the portable
#                   build; last line "N passed, N failed"
#   make asan       the whole suite under ASan + UBSan
#   make demo       reference backend + a real MCP session
#   make portable   build-portable/: the macOS/POSIX code paths, on Linux
#   make release    build-release/: libyaml and libuuid linked in, cJSON
#                   beside the binary ($ORIGIN), libcurl loaded at run time
#   make dist       release + mcpb + skill + deb + server.json into dist/
#   make install    PREFIX=/usr/local DESTDIR=

VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
BUILD     ?= build
CC        ?= cc
UNAME_S   := $(shell uname -s)
# Where the release assets live (server.json points at them).
REPO_URL  ?= https://github.com/nemovideo/nemo-mcp
SERVER_NAME ?= io.github.nemovideo/nemo-mcp

ifeq ($(UNAME_S),Darwin)
# macOS: libuuid is part of libSystem and libcurl ships with the OS
# (/usr/lib/libcurl.4.dylib, headers in the SDK); Homebrew gives the rest.
PKGS      := libcjson yaml-0.1
DEPS_HINT := brew install pkg-config cjson libyaml
CURL_SONAME = libcurl.4.dylib
DL_LIBS   :=
# the BSD/Darwin extensions glibc's _DEFAULT_SOURCE gives on Linux
OS_CFLAGS := -D_DARWIN_C_SOURCE
else
PKGS      := libcjson libcurl uuid yaml-0.1
DEPS_HINT  = apt-get install $(APT_PKGS)
# libcurl is not linked: src/api/curl_dyn.c loads it on the first request
# (linking it maps ~30 libraries and ~6 MB at every start). pkg-config
# still gives its headers, and its .so names the soname to load.
CURL_LIBDIR = $(shell pkg-config --variable=libdir libcurl 2>/dev/null)
CURL_SONAME = $(or $(shell readelf -d "$(CURL_LIBDIR)/libcurl.so" 2>/dev/null \
                 | sed -n 's/.*soname: \[\(.*\)\]/\1/p'),libcurl.so.4)
DL_LIBS   := -ldl
OS_CFLAGS :=
endif
APT_PKGS  := libcjson-dev libcurl4-openssl-dev uuid-dev libyaml-dev pkg-config

# Only ask pkg-config when a target needs to compile (not for `make deps`).
PKG_OK    := $(shell pkg-config --exists $(PKGS) 2>/dev/null && echo yes)
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(filter-out libcurl,$(PKGS)) \
                 2>/dev/null)

WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
             -Wmissing-prototypes -Wno-unused-parameter
CFLAGS    ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
             -DNEMO_VERSION=\"$(VERSION)\" -DNEMO_PREFIX=\"$(PREFIX)\" \
             -Iinclude $(WARN) $(OS_CFLAGS) $(CFLAGS) $(PKG_CFLAGS) \
             $(EXTRA_CFLAGS)
LDLIBS     = $(or $(RELEASE_LIBS),$(PKG_LIBS)) $(DL_LIBS) -lpthread \
             $(EXTRA_LDFLAGS)

LIB_SRC   := $(sort $(wildcard src/core/*.c src/api/*.c src/skill/*.c \
                               src/tools/*.c src/mcp/*.c src/cli.c))
LIB_OBJ   := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(LIB_SRC)) \
             $(BUILD)/obj/gen/schemas.o
SCHEMAS   := $(sort $(wildcard schemas/*.json))
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
BIN       := $(BUILD)/nemo-mcp

.PHONY: all deps test unit asan demo bench install uninstall clean check-deps \
        portable release mcpb skill deb server-json dist

all: check-deps $(BIN)

# A fresh Debian/Ubuntu machine: install what pkg-config cannot find.
# macOS: `make deps` prints the Homebrew line.
check-deps:
ifneq ($(PKG_OK),yes)
	@$(MAKE) --no-print-directory deps
endif

deps:
	@if pkg-config --exists $(PKGS) 2>/dev/null; then \
	    echo "deps: $(PKGS) found"; \
	elif [ "$(UNAME_S)" = Darwin ] || ! command -v apt-get >/dev/null; then \
	    echo "deps: missing; install them with: $(DEPS_HINT)"; exit 1; \
	else \
	    echo "deps: installing $(APT_PKGS)"; \
	    SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	        $(APT_PKGS) >/dev/null; \
	fi

$(BUILD)/obj/%.o: src/%.c $(wildcard include/nemo/*.h) | check-deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/api/curl_dyn.o: ALL_CFLAGS += -DCURLDYN_SONAME=\"$(CURL_SONAME)\"

$(BUILD)/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -o $@ $<

$(BUILD)/gen/schemas.c: $(SCHEMAS) $(BUILD)/embed
	@mkdir -p $(dir $@)
	$(BUILD)/embed $@ $(SCHEMAS)

$(BUILD)/obj/gen/schemas.o: $(BUILD)/gen/schemas.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -c $< -o $@

$(BUILD)/libnemo.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/obj/main.o $(BUILD)/libnemo.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(BUILD)/libnemo.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libnemo.a $(LDLIBS)

unit: $(UNIT_BIN)

# The suite, then unit + integration again against the portable build
# (NO_PORTABLE=1 skips that pass; the asan run does).
test: all unit $(if $(NO_PORTABLE),,portable) dist
	@python3 tests/run.py --build $(BUILD) \
	    $(if $(NO_PORTABLE),,--portable build-portable)

# The same suite, instrumented, in its own build dir.
asan:
	@$(MAKE) --no-print-directory BUILD=build-asan NO_PORTABLE=1 \
	    CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" \
	    EXTRA_LDFLAGS="-fsanitize=address,undefined" test

# The non-Linux code paths of src/core/platform.c, forced on.
portable:
	@$(MAKE) --no-print-directory BUILD=build-portable \
	    EXTRA_CFLAGS="$(EXTRA_CFLAGS) -DNEMO_FORCE_PORTABLE" all unit

# ---- distribution --------------------------------------------------------

include packaging/dist.mk

demo: all
	@python3 tests/demo.py --build $(BUILD)

bench: all
	@python3 bench/run.py --build $(BUILD)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/nemo-mcp
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/nemo-mcp
	install -m 0644 SKILL.md $(DESTDIR)$(PREFIX)/share/nemo-mcp/SKILL.md

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/nemo-mcp
	rm -rf $(DESTDIR)$(PREFIX)/share/nemo-mcp

clean:
	rm -rf build build-asan build-portable build-release dist

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
