/*
 * pairs.c
 *	  fingerprint_similar_pairs: every pair of a fingerprint set whose
 *	  similarity reaches a threshold, in one call, without comparing all
 *	  pairs.
 *
 * 1. Run the query (id, fingerprint), keep the fingerprints and their LSH
 *    band keys (lsh.c) in memory, within lockstep.pairs_memory_limit.
 * 2. Sort the (key, account) entries: equal keys form buckets, members of
 *    a bucket in a pseudo-random order.
 * 3. For each account i, the candidates are the accounts j > i in its
 *    buckets; each is rechecked once with the exact similarity.
 *
 * Skew: a bucket larger than max_bucket (a key thousands of accounts
 * share: a carrier's NAT network, a campaign's job windows) would give
 * millions of candidates.  In such a bucket an account is paired only with
 * the max_bucket members on either side of it in the bucket's random
 * order, so a bucket of n members gives at most n * max_bucket candidates
 * instead of n^2 / 2.  The cost in recall: a pair that shares only that
 * key is found with probability about 2 * max_bucket / n; pairs above the
 * threshold usually share many keys (several bands, several channels), so
 * the loss is small, and test/t/005_lsh.pl measures it.
 */
#include "lockstep.h"
#include "lshash.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(fingerprint_similar_pairs);

int			ls_pairs_memory_limit = 2 * 1024 * 1024;	/* kB */

typedef struct Entry
{
	uint64		key;
	uint32		order;			/* pseudo-random rank within the bucket */
	uint32		idx;			/* account number */
} Entry;

/* By key, then by the pseudo-random order. */
static int
cmp_entry(const void *a, const void *b)
{
	const Entry *x = a;
	const Entry *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

/* Ascending int32. */
static int
cmp_int32(const void *a, const void *b)
{
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;

	return (x > y) - (x < y);
}

/* The OID of type fingerprint: it lives in the schema of this function. */
static Oid
fingerprint_type_oid(FunctionCallInfo fcinfo)
{
	Oid			nsp = get_func_namespace(fcinfo->flinfo->fn_oid);

	return GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
						   CStringGetDatum("fingerprint"), ObjectIdGetDatum(nsp));
}

/* Count memory against the limit; raise a clear error past it. */
static void
pairs_charge(Size *used, Size more)
{
	*used += more;
	if (*used / 1024 > (Size) ls_pairs_memory_limit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("fingerprint_similar_pairs needs more than lockstep.pairs_memory_limit (%d kB)",
						ls_pairs_memory_limit),
				 errhint("Raise lockstep.pairs_memory_limit, or join a smaller set of fingerprints.")));
}

/*
 * fingerprint_similar_pairs(query, threshold, bands, rows, max_bucket)
 * returns (a, b, similarity), a listed before b in the query's order.  A
 * NULL threshold means lockstep.similarity_threshold.
 */
Datum
fingerprint_similar_pairs(PG_FUNCTION_ARGS)
{
	char	   *query;
	double		threshold;
	int32		bands;
	int32		rows;
	int32		max_bucket;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext work;
	MemoryContext old;
	Oid			fp_type = fingerprint_type_oid(fcinfo);
	Size		used = 0;
	int			n = 0,
				cap = 1024;
	int64	   *ids;
	Fingerprint **fps;
	Entry	   *entries;
	int64		nentries = 0,
				entries_cap = 1024 * LS_LSH_CHANNELS;
	int64	   *first;			/* CSR: positions of account i's entries */
	int64	   *pos;
	int64	   *bstart;			/* bucket of each sorted entry: [bstart, bend) */
	int64	   *bend;
	int32	   *mark;			/* mark[j] == i: j is already a candidate of i */
	int32	   *cand;			/* the candidates of the current account */
	int64		candidates = 0,
				found = 0,
				capped = 0,
				largest = 0;
	Portal		portal;
	SPIPlanPtr	plan;

	for (int a = 0; a < 5; a++)
		if (PG_ARGISNULL(a) && a != 1)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("only the threshold of fingerprint_similar_pairs may be NULL")));
	query = text_to_cstring(PG_GETARG_TEXT_PP(0));
	threshold = PG_ARGISNULL(1) ? ls_similarity_threshold : PG_GETARG_FLOAT8(1);
	bands = PG_GETARG_INT32(2);
	rows = PG_GETARG_INT32(3);
	max_bucket = PG_GETARG_INT32(4);
	if (!(threshold >= 0 && threshold <= 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("threshold must be between 0 and 1"),
				 errdetail("The value was %g.", threshold)));
	ls_lsh_check(bands, rows);
	if (max_bucket < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_bucket must be positive"),
				 errdetail("The value was %d.", max_bucket)));

	InitMaterializedSRF(fcinfo, 0);
	work = AllocSetContextCreate(CurrentMemoryContext, "fingerprint_similar_pairs",
								 ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(work);
	ids = palloc(cap * sizeof(int64));
	fps = palloc(cap * sizeof(Fingerprint *));
	entries = palloc(entries_cap * sizeof(Entry));

	/* 1. read (id, fingerprint) rows and compute their keys */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare(query, 0, NULL);
	if (plan == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("could not prepare the query: %s", SPI_result_code_string(SPI_result))));
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);
	for (;;)
	{
		TupleDesc	desc;

		SPI_cursor_fetch(portal, true, 10000);
		if (SPI_processed == 0)
			break;
		desc = SPI_tuptable->tupdesc;
		if (desc->natts != 2 ||
			(TupleDescAttr(desc, 0)->atttypid != INT8OID &&
			 TupleDescAttr(desc, 0)->atttypid != INT4OID) ||
			TupleDescAttr(desc, 1)->atttypid != fp_type)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("the query must return two columns: an id (bigint or integer) and a fingerprint")));
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];
			bool		isnull_id,
						isnull_fp;
			Datum		id = SPI_getbinval(tup, desc, 1, &isnull_id);
			Datum		fpd = SPI_getbinval(tup, desc, 2, &isnull_fp);
			Fingerprint *fp;
			uint64		keys[LS_LSH_MAX_KEYS];
			int			nk;

			CHECK_FOR_INTERRUPTS();
			if (isnull_id || isnull_fp)
				continue;		/* a NULL is similar to nothing */
			if (n == INT32_MAX - 1)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("fingerprint_similar_pairs takes at most %d fingerprints", INT32_MAX - 1)));
			MemoryContextSwitchTo(work);
			if (n == cap)
			{
				cap *= 2;
				ids = repalloc_huge(ids, cap * sizeof(int64));
				fps = repalloc_huge(fps, cap * sizeof(Fingerprint *));
			}
			fp = (Fingerprint *) PG_DETOAST_DATUM_COPY(fpd);
			ls_check_version(fp);
			pairs_charge(&used, VARSIZE(fp) + sizeof(int64) + sizeof(Fingerprint *));
			ids[n] = TupleDescAttr(desc, 0)->atttypid == INT8OID ?
				DatumGetInt64(id) : (int64) DatumGetInt32(id);
			fps[n] = fp;
			nk = ls_lsh_keys(fp, bands, rows, keys);
			if (nentries + nk > entries_cap)
			{
				entries_cap *= 2;
				entries = repalloc_huge(entries, entries_cap * sizeof(Entry));
			}
			pairs_charge(&used, nk * (sizeof(Entry) + 3 * sizeof(int64)));
			for (int k = 0; k < nk; k++)
			{
				entries[nentries].key = keys[k];
				entries[nentries].order = (uint32) ls_fmix64(((uint64) n << 8) ^ keys[k]);
				entries[nentries].idx = n;
				nentries++;
			}
			n++;
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	SPI_finish();
	MemoryContextSwitchTo(work);

	/* 2. buckets */
	qsort(entries, nentries, sizeof(Entry), cmp_entry);
	CHECK_FOR_INTERRUPTS();
	pairs_charge(&used, (n + 1) * sizeof(int64) + 2 * n * sizeof(int32));
	first = palloc0_array(int64, n + 1);
	pos = palloc_extended(Max(nentries, 1) * sizeof(int64), MCXT_ALLOC_HUGE);
	bstart = palloc_extended(Max(nentries, 1) * sizeof(int64), MCXT_ALLOC_HUGE);
	bend = palloc_extended(Max(nentries, 1) * sizeof(int64), MCXT_ALLOC_HUGE);
	mark = palloc_array(int32, Max(n, 1));
	cand = palloc_array(int32, Max(n, 1));
	for (int64 e = 0; e < nentries; e++)
	{
		first[entries[e].idx + 1]++;
		bstart[e] = (e > 0 && entries[e - 1].key == entries[e].key) ? bstart[e - 1] : e;
	}
	for (int64 e = nentries - 1; e >= 0; e--)
		bend[e] = (e + 1 < nentries && entries[e + 1].key == entries[e].key) ? bend[e + 1] : e + 1;
	for (int i = 0; i < n; i++)
	{
		first[i + 1] += first[i];
		mark[i] = -1;
	}
	{
		int64	   *fill = palloc_array(int64, Max(n, 1));

		memcpy(fill, first, n * sizeof(int64));
		for (int64 e = 0; e < nentries; e++)
			pos[fill[entries[e].idx]++] = e;
		pfree(fill);
	}

	/* 3. candidates per account, each rechecked once */
	for (int i = 0; i < n; i++)
	{
		int			ncand = 0;

		CHECK_FOR_INTERRUPTS();
		for (int64 k = first[i]; k < first[i + 1]; k++)
		{
			int64		p = pos[k];
			int64		bs = bstart[p];
			int64		be = bend[p];
			int64		lo,
						hi;

			lo = bs;
			hi = be;
			if (be - bs > max_bucket)
			{
				if (p == bs)
				{
					capped++;
					largest = Max(largest, be - bs);
				}
				lo = Max(bs, p - max_bucket);
				hi = Min(be, p + max_bucket + 1);
			}
			for (int64 q = lo; q < hi; q++)
			{
				int			j = entries[q].idx;

				if (j <= i || mark[j] == i)
					continue;
				mark[j] = i;
				cand[ncand++] = j;
			}
		}

		/* recheck in memory order: the prefetcher then helps */
		qsort(cand, ncand, sizeof(int32), cmp_int32);
		candidates += ncand;
		for (int c = 0; c < ncand; c++)
		{
			int			j = cand[c];
			double		s;

			if (ls_similarity_at_least(fps[i], fps[j], ls_default_weights, threshold, &s))
			{
				Datum		v[3];
				bool		nulls[3] = {false, false, false};

				v[0] = Int64GetDatum(ids[i]);
				v[1] = Int64GetDatum(ids[j]);
				v[2] = Float8GetDatum(s);
				MemoryContextSwitchTo(old);
				tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
				MemoryContextSwitchTo(work);
				found++;
			}
		}
	}

	ereport(DEBUG1,
			(errmsg("fingerprint_similar_pairs: %d fingerprints, " INT64_FORMAT " keys, "
					INT64_FORMAT " buckets over max_bucket (largest " INT64_FORMAT "), "
					INT64_FORMAT " candidate pairs, " INT64_FORMAT " pairs at or above %g",
					n, nentries, capped, largest, candidates, found, threshold)));
	MemoryContextSwitchTo(old);
	MemoryContextDelete(work);
	return (Datum) 0;
}
