# Bitcoin Tycoon backend.  `make run` starts the whole stack in the
# foreground; `make test` installs what is missing, builds with warnings as
# errors and runs the C unit tests and the integration suite.
#
# `make asan test` builds everything with AddressSanitizer + UBSan into
# build/asan and runs the same tests against those binaries.

SERVICES := auth player site market research governance event admin

ifneq ($(filter asan,$(MAKECMDGOALS)),)
BUILD    ?= build/asan
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT      := -O1 -g
else
BUILD    ?= build
SANFLAGS :=
OPT      ?= -O2 -g
endif

CC       ?= cc
PKGS     := json-c libjwt libsodium hiredis libsystemd libpq libcurl fcgi
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo dev)
CFLAGS   := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wno-missing-field-initializers -fPIC $(OPT) $(SANFLAGS) -Ilib \
            -DBT_VERSION='"$(VERSION)"' \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lfcgi -lm -lpthread
LDFLAGS  := $(SANFLAGS)

LIB_SRC  := $(wildcard lib/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB_A    := $(BUILD)/libbt.a

CGI_BINS := $(SERVICES:%=$(BUILD)/bin/bt-%)
TICKD_SRC:= $(wildcard tickd/*.c)
TICKD_OBJ:= $(TICKD_SRC:%.c=$(BUILD)/%.o)
TICKD    := $(BUILD)/bin/tickd

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BINS:= $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# Micro-benchmarks of tickd modules (tests/unit/bench_<module>.c), run by scripts/bench_*.sh.
# tickd modules (all but main.c) are linked into the unit tests too.
TICKD_LIBOBJ := $(filter-out $(BUILD)/tickd/main.o,$(TICKD_OBJ))

# Micro-benchmarks of pure code (tests/bench/bench_<name>.c), linked like the unit tests.
BENCH_SRC := $(wildcard tests/bench/bench_*.c)
BENCH_BINS:= $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)

PYTEST   := /usr/bin/python3 -m pytest

.PHONY: all deps run stop test unit integration asan bench clean format format-check docs \
        check-units install help
.DEFAULT_GOAL := all
# Objects are intermediate files of pattern chains; keep them (no rebuilds).
.SECONDARY:

all: $(CGI_BINS) $(TICKD) $(UNIT_BINS) $(BENCH_BINS)

help:
	@echo "make run | stop | test | asan test | bench | deps | format-check | check-units | install | clean"

deps:
	@scripts/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB_A): $(LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

# One binary per service: every .c under cgi/<service>/.
svc_objs = $(patsubst %.c,$(BUILD)/%.o,$(wildcard cgi/$(1)/*.c))
.SECONDEXPANSION:
$(BUILD)/bin/bt-%: $$(call svc_objs,$$*) $(LIB_A)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIB_A) $(LDLIBS)

$(TICKD): $(TICKD_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $(TICKD_OBJ) $(LIB_A) $(LDLIBS)

# Unit tests of tickd modules include their headers.
$(BUILD)/tests/unit/%.o: CFLAGS += -Itickd

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(TICKD_LIBOBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $< $(TICKD_LIBOBJ) $(LIB_A) $(LDLIBS) -lcmocka

$(BUILD)/bench/%: $(BUILD)/tests/bench/%.o $(TICKD_LIBOBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $< $(TICKD_LIBOBJ) $(LIB_A) $(LDLIBS)

# The market service validates orders with tickd's pure rules (market_instr.c).
$(BUILD)/cgi/market/%.o: CFLAGS += -Itickd
$(BUILD)/bin/bt-market: $(BUILD)/tickd/market_instr.o
# The site service pre-checks rigs with tickd's mining rules and catalog loader.
$(BUILD)/cgi/site/%.o: CFLAGS += -Itickd
$(BUILD)/bin/bt-site: $(BUILD)/tickd/mining_catalog.o $(BUILD)/tickd/mining_db.o \
                     $(BUILD)/tickd/mining.o

asan: all

# deps first, then a fresh make: the compiler flags come from pkg-config,
# which only knows the libraries once deps installed them.
run: deps
	@$(MAKE) --no-print-directory all BUILD=$(BUILD) SANFLAGS="$(SANFLAGS)" OPT="$(OPT)"
	@BUILD=$(BUILD) scripts/stack.sh run

stop:
	@scripts/stack.sh stop

unit: $(UNIT_BINS)
	@BUILD=$(BUILD) scripts/unit.sh $(UNIT_BINS)

integration: all
	@BT_BUILD=$(BUILD) $(PYTEST) -q -p no:cacheprovider tests/integration $(PYTEST_ARGS)

test: deps
	@$(MAKE) --no-print-directory all BUILD=$(BUILD) SANFLAGS="$(SANFLAGS)" OPT="$(OPT)"
	@$(MAKE) --no-print-directory unit integration BUILD=$(BUILD) SANFLAGS="$(SANFLAGS)" OPT="$(OPT)"

bench: deps
	@$(MAKE) --no-print-directory all BUILD=$(BUILD)
	@BUILD=$(BUILD) scripts/bench.sh

# Documentation generated from the code (README config table, bt.env.example).
docs: $(TICKD)
	@scripts/gen-docs.sh $(TICKD)

format:
	clang-format -i $(LIB_SRC) lib/*.h $(wildcard cgi/*/*.[ch] tickd/*.[ch] tests/unit/*.c)

format-check:
	@clang-format --dry-run --Werror $(LIB_SRC) lib/*.h \
	    $(wildcard cgi/*/*.[ch] tickd/*.[ch] tests/unit/*.c) && echo "format: ok"

# Verifies the units as installed (a staged install under a temporary root).
check-units: all
	@BUILD=$(BUILD) scripts/check-units.sh

# make install [DESTDIR=/stage] [PREFIX=/usr/local]  (see scripts/install.sh)
PREFIX   ?= /usr/local
install: all
	@BUILD=$(BUILD) DESTDIR=$(DESTDIR) PREFIX=$(PREFIX) scripts/install.sh

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
