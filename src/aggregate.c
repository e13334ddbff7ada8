/*
 * aggregate.c
 *	  fingerprint_agg (internal state, parallel: combine, serialize,
 *	  deserialize) and fingerprint_merge, the support of
 *	  fingerprint_union_agg.
 */
#include "fingerprint.h"
#include "format.h"
#include "prompt.h"
#include "sketch.h"
#include "sqlapi.h"
#include "hashing.h"

#include <sys/socket.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/inet.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(fingerprint_agg_trans);
PG_FUNCTION_INFO_V1(fingerprint_agg_final);
PG_FUNCTION_INFO_V1(fingerprint_agg_combine);
PG_FUNCTION_INFO_V1(fingerprint_agg_serialize);
PG_FUNCTION_INFO_V1(fingerprint_agg_deserialize);
PG_FUNCTION_INFO_V1(fingerprint_merge);
PG_FUNCTION_INFO_V1(fingerprint_union_trans);
PG_FUNCTION_INFO_V1(lockstep_infrastructure_key);

#define SEED_IP		UINT64CONST(0x1b873593cc9e2d51)
#define SEED_UA		UINT64CONST(0x85ebca6bc2b2ae35)
#define SEED_PAY	UINT64CONST(0x27d4eb2f165667c5)

/* The aggregate memory context, or an error if not called as an aggregate. */
static MemoryContext
agg_context(FunctionCallInfo fcinfo, const char *fname)
{
	MemoryContext ctx;

	if (!AggCheckCallContext(fcinfo, &ctx))
		elog(ERROR, "%s called in non-aggregate context", fname);
	return ctx;
}

/* A new empty state in the aggregate context. */
static LsState *
new_state(MemoryContext ctx)
{
	LsState    *st;

	/* palloc rounds up to a power of two: stay within 2 kB a group */
	StaticAssertStmt(sizeof(LsState) <= 2048, "LsState grew past 2 kB");
	st = MemoryContextAlloc(ctx, sizeof(LsState));
	ls_state_init(st);
	return st;
}

/*
 * Hash of an address's network: IPv4 /24, IPv6 /48.  An IPv4-mapped IPv6
 * address (::ffff:a.b.c.d) is the IPv4 address it maps, as a dual-stack
 * server logs it one way or the other for the same client.
 */
static uint64
ip_prefix_hash(inet *addr)
{
	static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	unsigned char buf[8];
	const unsigned char *a = ip_addr(addr);
	int			family = ip_family(addr);
	int			nbytes;

	if (family == PGSQL_AF_INET6 && memcmp(a, v4mapped, 12) == 0)
	{
		family = PGSQL_AF_INET;
		a += 12;
	}
	nbytes = (family == PGSQL_AF_INET) ? 3 : 6;
	buf[0] = family;
	memcpy(buf + 1, a, nbytes);
	return ls_hash_bytes(buf, nbytes + 1, SEED_IP);
}

/* Non-negative token count argument, or an error. */
static uint64
token_arg(FunctionCallInfo fcinfo, int argno, const char *what)
{
	int32		v = PG_GETARG_INT32(argno);

	if (v < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be negative", what),
				 errdetail("The value was %d.", v)));
	return (uint64) v;
}

/*
 * Transition: (state, ts, prompt [, client_ip, user_agent, payment
 * [, model [, tokens_in, tokens_out]]]).  A NULL argument adds nothing
 * to its channel; every row counts as a request.
 */
Datum
fingerprint_agg_trans(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "fingerprint_agg_trans");
	LsState    *st = PG_ARGISNULL(0) ? new_state(ctx) : (LsState *) PG_GETARG_POINTER(0);
	int			nargs = PG_NARGS();
	bool		timed = !PG_ARGISNULL(1);
	int64		ts = timed ? PG_GETARG_TIMESTAMPTZ(1) : LS_NO_TIME;
	int			hour;
	text	   *prompt = PG_ARGISNULL(2) ? NULL : PG_GETARG_TEXT_PP(2);
	LsPromptInfo info;

	if (timed && TIMESTAMP_NOT_FINITE(ts))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("fingerprint_agg does not accept infinite timestamps")));

	/*
	 * The state is one of thousands in the hash table, so the lines this
	 * row updates are usually out of cache: ask for them, and analyze the
	 * prompt, which does not read the state, while they arrive.
	 */
	hour = timed ? ls_hour_of_week(ts) : -1;
	ls_state_prefetch(st, hour);
	if (prompt != NULL)
		ls_analyze_prompt(VARDATA_ANY(prompt), VARSIZE_ANY_EXHDR(prompt), &info);

	ls_add_u64(&st->f.n_requests, 1);
	if (timed)
		ls_state_add_time(st, ts, hour);
	if (prompt != NULL)
		ls_state_add_prompt(st, &info, VARSIZE_ANY_EXHDR(prompt));
	if (nargs > 3 && !PG_ARGISNULL(3))
		ls_state_add_sketch(st, LS_SK_IP, ip_prefix_hash(PG_GETARG_INET_PP(3)));
	if (nargs > 4 && !PG_ARGISNULL(4))
	{
		text	   *ua = PG_GETARG_TEXT_PP(4);

		ls_state_add_sketch(st, LS_SK_UA,
							ls_hash_bytes(VARDATA_ANY(ua), VARSIZE_ANY_EXHDR(ua), SEED_UA));
	}
	if (nargs > 5 && !PG_ARGISNULL(5))
	{
		text	   *pay = PG_GETARG_TEXT_PP(5);

		ls_state_add_sketch(st, LS_SK_PAY,
							ls_hash_bytes(VARDATA_ANY(pay), VARSIZE_ANY_EXHDR(pay), SEED_PAY));
	}
	if (nargs > 6 && !PG_ARGISNULL(6))
	{
		text	   *model = PG_GETARG_TEXT_PP(6);

		if (VARSIZE_ANY_EXHDR(model) > 0)
			ls_state_add_model(st, VARDATA_ANY(model), VARSIZE_ANY_EXHDR(model), ts);
	}
	if (nargs > 7 && !PG_ARGISNULL(7))
		ls_add_u64(&st->f.tokens_in, token_arg(fcinfo, 7, "tokens_in"));
	if (nargs > 8 && !PG_ARGISNULL(8))
		ls_add_u64(&st->f.tokens_out, token_arg(fcinfo, 8, "tokens_out"));

	PG_RETURN_POINTER(st);
}

/* Final: the on-disk fingerprint; the state is not modified. */
Datum
fingerprint_agg_final(PG_FUNCTION_ARGS)
{
	agg_context(fcinfo, "fingerprint_agg_final");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_FINGERPRINT_P(ls_state_pack((LsState *) PG_GETARG_POINTER(0)));
}

/* Combine two partial states; either may be NULL. */
Datum
fingerprint_agg_combine(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "fingerprint_agg_combine");
	LsState    *a = PG_ARGISNULL(0) ? NULL : (LsState *) PG_GETARG_POINTER(0);
	LsState    *b = PG_ARGISNULL(1) ? NULL : (LsState *) PG_GETARG_POINTER(1);

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
	{
		a = MemoryContextAlloc(ctx, sizeof(LsState));
		memcpy(a, b, sizeof(LsState));
		PG_RETURN_POINTER(a);
	}
	ls_state_merge(a, b);
	PG_RETURN_POINTER(a);
}

/* Serialize a partial state to its canonical wire form. */
Datum
fingerprint_agg_serialize(PG_FUNCTION_ARGS)
{
	LsState    *st;
	bytea	   *out;

	agg_context(fcinfo, "fingerprint_agg_serialize");
	st = (LsState *) PG_GETARG_POINTER(0);
	out = palloc(VARHDRSZ + ls_wire_size(st));
	SET_VARSIZE(out, VARHDRSZ + ls_wire_write(st, (unsigned char *) VARDATA(out)));
	PG_RETURN_BYTEA_P(out);
}

/* Deserialize and validate a partial state. */
Datum
fingerprint_agg_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "fingerprint_agg_deserialize");
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	LsState    *st = MemoryContextAlloc(ctx, sizeof(LsState));
	const char *err = ls_wire_read((unsigned char *) VARDATA_ANY(in),
								   VARSIZE_ANY_EXHDR(in), st);

	if (err != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid fingerprint aggregate state"),
				 errdetail("%s", err)));
	PG_RETURN_POINTER(st);
}

/*
 * fingerprint_merge(a, b): the fingerprint of the union of both request
 * sets.  Strict, so as the transition and combine function of
 * fingerprint_union_agg it skips NULLs and starts from the first value.
 */
Datum
fingerprint_merge(PG_FUNCTION_ARGS)
{
	Fingerprint *a = PG_GETARG_FINGERPRINT_P(0);
	Fingerprint *b = PG_GETARG_FINGERPRINT_P(1);
	LsState    *sa = palloc(sizeof(LsState));
	LsState    *sb = palloc(sizeof(LsState));
	Fingerprint *out;

	ls_state_unpack(a, sa);
	ls_state_unpack(b, sb);
	ls_state_merge(sa, sb);
	out = ls_state_pack(sa);
	pfree(sa);
	pfree(sb);
	PG_RETURN_FINGERPRINT_P(out);
}

/*
 * Transition of fingerprint_union_agg: merge a fingerprint into the
 * expanded state, which stays in the aggregate context (fingerprint_merge
 * as the transition expanded and packed the state again for every row,
 * half of the merge's time).  NULLs add nothing; no input, no state.
 */
Datum
fingerprint_union_trans(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "fingerprint_union_trans");
	LsState    *st = PG_ARGISNULL(0) ? NULL : (LsState *) PG_GETARG_POINTER(0);
	LsState		in;

	if (PG_ARGISNULL(1))
	{
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	if (st == NULL)
	{
		st = MemoryContextAlloc(ctx, sizeof(LsState));
		ls_state_unpack(PG_GETARG_FINGERPRINT_P(1), st);
		PG_RETURN_POINTER(st);
	}
	ls_state_unpack(PG_GETARG_FINGERPRINT_P(1), &in);
	ls_state_merge(st, &in);
	PG_RETURN_POINTER(st);
}

/*
 * The key a fingerprint's infrastructure sketch holds for a value, as
 * fingerprint_infrastructure_keys reports it: kind network (the value an
 * address, its /24 or /48 counts), user_agent or payment.  What lets an
 * analyst find in the log the values behind a key: keys are one-way.
 */
Datum
lockstep_infrastructure_key(PG_FUNCTION_ARGS)
{
	char	   *kind = text_to_cstring(PG_GETARG_TEXT_PP(0));
	text	   *value = PG_GETARG_TEXT_PP(1);
	uint64		hash;

	if (strcmp(kind, "network") == 0)
		hash = ip_prefix_hash(DatumGetInetPP(DirectFunctionCall1(inet_in,
																 CStringGetDatum(text_to_cstring(value)))));
	else if (strcmp(kind, "user_agent") == 0)
		hash = ls_hash_bytes(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value), SEED_UA);
	else if (strcmp(kind, "payment") == 0)
		hash = ls_hash_bytes(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value), SEED_PAY);
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown infrastructure kind \"%s\"", kind),
				 errhint("The kinds are network, user_agent and payment.")));
	PG_RETURN_INT64((int64) ls_sketch_key(hash));
}
