# lockstep: PGXS build.  The version lives in lockstep.control only.
EXTENSION = lockstep
EXTVERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = lockstep
OBJS = src/lockstep.o src/normalize.o src/lexicon.o src/sketch.o \
	src/fingerprint.o src/aggregate.o src/textfuncs.o src/generator.o \
	src/similarity.o src/lsh.o src/operators.o src/gin.o src/pairs.o \
	src/cluster.o
DATA = sql/$(EXTENSION)--$(EXTVERSION).sql
PG_CPPFLAGS = -I$(srcdir)/src
# test/run builds with WERROR=1: warnings are errors there and in CI
ifdef WERROR
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers
endif

REGRESS = setup fingerprint aggregate text generator similarity cluster

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# every object depends on the shared layout
$(OBJS): src/lockstep.h src/lshash.h

.PHONY: test demo
test:
	test/run
demo:
	bin/lockstep-demo
