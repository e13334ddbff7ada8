/*
 * gin.c
 *	  GIN support for fingerprint_lsh_ops: an index over the LSH band keys,
 *	  so that WHERE fp % $1 looks at candidates sharing a band key instead
 *	  of every row.
 *
 * Bound: an item is a candidate iff it shares at least one band key with
 * the query.  A pair of similarity at least the threshold shares a key of
 * a channel with the S-curve probability 1 - (1 - s^rows)^bands (lsh.c),
 * and every candidate is rechecked with the exact similarity, so the
 * index never returns a row % would reject; it can only miss the rows
 * LSH misses.  A query without keys (no discriminative channel) scans
 * the whole index and rechecks every row, so it misses nothing.
 */
#include "lsh.h"
#include "sqlapi.h"

#include "access/gin.h"
#include "access/stratnum.h"
#include "fmgr.h"

PG_FUNCTION_INFO_V1(gin_extract_value_fingerprint);
PG_FUNCTION_INFO_V1(gin_extract_query_fingerprint);
PG_FUNCTION_INFO_V1(gin_consistent_fingerprint);
PG_FUNCTION_INFO_V1(gin_triconsistent_fingerprint);

#define LS_STRATEGY_SIMILAR	1

/* The band keys of a fingerprint as palloc'd int8 Datums. */
static Datum *
keys_as_datums(Fingerprint *fp, int32 *nkeys)
{
	uint64		keys[LS_LSH_MAX_KEYS];
	int			n = ls_lsh_keys(fp, LS_LSH_BANDS, LS_LSH_ROWS, keys);
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		d[i] = Int64GetDatum((int64) keys[i]);
	*nkeys = n;
	return d;
}

/* extractValue: the keys of an indexed fingerprint. */
Datum
gin_extract_value_fingerprint(PG_FUNCTION_ARGS)
{
	int32	   *nkeys = (int32 *) PG_GETARG_POINTER(1);

	PG_RETURN_POINTER(keys_as_datums(ls_fp_arg(fcinfo, 0), nkeys));
}

/* extractQuery: the keys of the query fingerprint; none means scan all. */
Datum
gin_extract_query_fingerprint(PG_FUNCTION_ARGS)
{
	int32	   *nkeys = (int32 *) PG_GETARG_POINTER(1);
	StrategyNumber strategy = PG_GETARG_UINT16(2);
	int32	   *searchMode = (int32 *) PG_GETARG_POINTER(6);
	Datum	   *keys;

	if (strategy != LS_STRATEGY_SIMILAR)
		elog(ERROR, "unrecognized strategy number: %d", strategy);
	keys = keys_as_datums(ls_fp_arg(fcinfo, 0), nkeys);
	if (*nkeys == 0)
		*searchMode = GIN_SEARCH_MODE_ALL;
	PG_RETURN_POINTER(keys);
}

/* consistent: any shared key makes a candidate; the heap recheck decides. */
Datum
gin_consistent_fingerprint(PG_FUNCTION_ARGS)
{
	bool	   *check = (bool *) PG_GETARG_POINTER(0);
	int32		nkeys = PG_GETARG_INT32(3);
	bool	   *recheck = (bool *) PG_GETARG_POINTER(5);

	*recheck = true;
	if (nkeys == 0)
		PG_RETURN_BOOL(true);	/* GIN_SEARCH_MODE_ALL */
	for (int i = 0; i < nkeys; i++)
		if (check[i])
			PG_RETURN_BOOL(true);
	PG_RETURN_BOOL(false);
}

/* triConsistent: the same rule over GIN_TRUE / GIN_MAYBE / GIN_FALSE. */
Datum
gin_triconsistent_fingerprint(PG_FUNCTION_ARGS)
{
	GinTernaryValue *check = (GinTernaryValue *) PG_GETARG_POINTER(0);
	int32		nkeys = PG_GETARG_INT32(3);

	if (nkeys == 0)
		PG_RETURN_GIN_TERNARY_VALUE(GIN_MAYBE);
	for (int i = 0; i < nkeys; i++)
		if (check[i] != GIN_FALSE)
			PG_RETURN_GIN_TERNARY_VALUE(GIN_MAYBE);
	PG_RETURN_GIN_TERNARY_VALUE(GIN_FALSE);
}
