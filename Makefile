# lockstep: PGXS build.  The version lives in lockstep.control only.
EXTENSION = lockstep
EXTVERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = lockstep
OBJS = src/lockstep.o src/normalize.o src/lexicon.o src/sketch.o \
	src/fingerprint.o src/aggregate.o src/textfuncs.o \
	src/similarity.o src/lsh.o src/operators.o src/gin.o src/pairs.o \
	src/cluster.o src/compat.o src/format.o src/prompt.o src/sqlapi.o src/share.o \
	src/blind.o src/refresh.o src/sharedkeys.o
PG_CPPFLAGS = -I$(srcdir)/src
# test/run builds with WERROR=1: warnings are errors there and in CI
ifdef WERROR
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers
endif

# The install script is assembled from one source file per concern; the
# update to this version replays the plpgsql parts (scoring, pipeline) as
# CREATE OR REPLACE after its own steps.  sql/README says how to freeze an
# update script when the next version begins.
SQL_PARTS = sql/fingerprint.sql sql/similarity.sql sql/cluster.sql \
	sql/scoring.sql sql/pipeline_types.sql sql/pipeline.sql sql/share.sql
SQL_REPLAYED = sql/cluster.sql sql/scoring.sql sql/pipeline.sql sql/share.sql
UPDATE_FROM = 0.5.0
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql \
	sql/$(EXTENSION)--$(UPDATE_FROM)--$(EXTVERSION).sql
# frozen scripts of earlier versions (sql/README)
DATA = sql/$(EXTENSION)--0.1.0.sql sql/$(EXTENSION)--0.2.0.sql sql/$(EXTENSION)--0.3.0.sql \
	sql/$(EXTENSION)--0.4.0.sql sql/$(EXTENSION)--0.1.0--0.2.0.sql sql/$(EXTENSION)--0.2.0--0.3.0.sql \
	sql/$(EXTENSION)--0.3.0--0.4.0.sql sql/$(EXTENSION)--0.5.0.sql sql/$(EXTENSION)--0.4.0--0.5.0.sql

REGRESS = setup fingerprint aggregate text generator similarity cluster hardening desk blind
REGRESS_OPTS = --inputdir=test --outputdir=test

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

sql/$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS) $(EXTENSION).control
	{ printf -- '-- lockstep %s: behavioural fingerprints of API accounts (built from sql/*.sql)\n\n' '$(EXTVERSION)'; \
	  printf '\\echo Use "CREATE EXTENSION lockstep" to load this file. \\quit\n\n'; \
	  for f in $(SQL_PARTS); do cat $$f; echo; done; } >$@

UPDATE_STEPS = sql/updates/$(UPDATE_FROM)--$(EXTVERSION)
sql/$(EXTENSION)--$(UPDATE_FROM)--$(EXTVERSION).sql: $(UPDATE_STEPS).sql $(UPDATE_STEPS).post.sql $(SQL_REPLAYED)
	{ printf -- '-- lockstep %s -> %s (built from sql/updates and sql/*.sql)\n\n' '$(UPDATE_FROM)' '$(EXTVERSION)'; \
	  printf '\\echo Use "ALTER EXTENSION lockstep UPDATE" to load this file. \\quit\n\n'; \
	  cat $(UPDATE_STEPS).sql; echo; \
	  for f in $(SQL_REPLAYED); do sed 's/^CREATE FUNCTION /CREATE OR REPLACE FUNCTION /; s/^CREATE PROCEDURE /CREATE OR REPLACE PROCEDURE /' $$f; echo; done; \
	  cat $(UPDATE_STEPS).post.sql; } >$@

# every object depends on the shared layout
$(OBJS): $(wildcard src/*.h)

# the test-data generator is its own extension, built and installed along
all: synth-all
install: synth-install
clean: synth-clean
synth-%:
	$(MAKE) -C synth $* PG_CONFIG=$(PG_CONFIG)

.PHONY: test demo
test:
	test/run
demo:
	bin/lockstep-demo

# TAP tests against a running server (PGHOST, PGPORT, PGUSER as for psql, a
# superuser), one or more at a time: make installcheck-tap PROVE_TESTS=test/t/005_lsh.pl
# (test/run starts a throwaway server and runs them all).  LS_TMP: a
# directory the server's OS user can read.
PROVE_TESTS ?= test/t/*.pl
installcheck-tap:
	LS_TMP=$${LS_TMP:-/tmp} prove -I$(srcdir)/test/lib $(PROVE_TESTS)
.PHONY: installcheck-tap
