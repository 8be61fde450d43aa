# packaging/dist.mk - the release binary and the artefacts built from it
# (included by the Makefile; packaging/dist.py does the file work).
#
#   dist/nemo-mcp-<version>-<os>-<arch>.mcpb   Claude Desktop bundle
#   dist/skill/nemo-mcp/                       OpenClaw / clawhub / Cursor skill
#   dist/nemo-mcp_<version>_<arch>.deb         Debian / Ubuntu package
#   dist/server.json                           MCP Registry entry

DIST      := dist
REL       := build-release
OS_NAME   := $(if $(filter Darwin,$(UNAME_S)),darwin,linux)
ARCH_NAME := $(shell uname -m | sed -e 's/x86_64/x64/' -e 's/aarch64/arm64/')
MCPB_FILE := $(DIST)/nemo-mcp-$(VERSION)-$(OS_NAME)-$(ARCH_NAME).mcpb
DEB_ARCH  := $(shell dpkg --print-architecture 2>/dev/null)
DEB_FILE  := $(DIST)/nemo-mcp_$(VERSION)_$(DEB_ARCH).deb
DIST_PY   := python3 packaging/dist.py --version $(VERSION)

# The release link: libyaml and libuuid from their static archives; cJSON
# too when the system has libcjson.a (Debian ships only the .so: it then
# goes beside the binary, found through the run path). libcurl stays
# dlopen()ed, so the C library is the only other dependency.
ifeq ($(BUILD),$(REL))
STATIC_LIB  = $(firstword $(wildcard $(shell pkg-config --variable=libdir \
                  $(1) 2>/dev/null)/$(2)) $(3))
CJSON_A    := $(call STATIC_LIB,libcjson,libcjson.a,)
ifeq ($(UNAME_S),Darwin)
RPATH      := -Wl,-rpath,@loader_path
UUID_LIBS  :=
else
RPATH      := '-Wl,-rpath,$$ORIGIN:$$ORIGIN/../lib/nemo-mcp'
UUID_LIBS  := $(call STATIC_LIB,uuid,libuuid.a,-luuid)
endif
RELEASE_LIBS = $(call STATIC_LIB,yaml-0.1,libyaml.a,-lyaml) $(UUID_LIBS) \
               $(or $(CJSON_A),$(shell pkg-config --libs libcjson) $(RPATH))
endif

release:
	@$(MAKE) --no-print-directory BUILD=$(REL) CFLAGS="-O2 -g" \
	    EXTRA_CFLAGS= EXTRA_LDFLAGS= $(REL)/nemo-mcp
	@$(DIST_PY) libs $(REL)/nemo-mcp

mcpb: release
	@$(DIST_PY) mcpb --bin $(REL)/nemo-mcp --skill SKILL.md \
	    --platform $(OS_NAME) --out $(MCPB_FILE)

skill: release
	@$(DIST_PY) skill --bin $(REL)/nemo-mcp \
	    --skill packaging/skill/SKILL.md --out $(DIST)/skill/nemo-mcp

deb: release
ifeq ($(DEB_ARCH),)
	@echo "deb: dpkg-deb is not available here; skipped"
else
	@$(DIST_PY) deb --bin $(REL)/nemo-mcp --skill SKILL.md \
	    --arch $(DEB_ARCH) --out $(DEB_FILE)
endif

server-json: mcpb
	@$(DIST_PY) server-json --dist $(DIST) --name $(SERVER_NAME) \
	    --repo $(REPO_URL) --out $(DIST)/server.json

dist: release mcpb skill deb server-json
