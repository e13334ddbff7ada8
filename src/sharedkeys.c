/*
 * sharedkeys.c
 *	  fingerprint_shared_keys_agg: over a group of fingerprints (a
 *	  campaign's members), the infrastructure and scaffold keys that more
 *	  than one of them holds, the first few of each kind by how many hold
 *	  each.  One hash table a group, where a GROUP BY over a row per member
 *	  and key (1.7M rows for a campaign of 24,000 accounts) spent seconds in
 *	  the executor's hash aggregation.
 */
#include "fingerprint.h"
#include "hashing.h"
#include "sqlapi.h"

#include "fmgr.h"
#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(fingerprint_shared_keys_trans);
PG_FUNCTION_INFO_V1(fingerprint_shared_keys_final);

/* The kinds, in the order of the output; a key is (kind << 32) | hash. */
static const char *const kind_names[] = {"network", "user_agent", "payment", "scaffold"};

#define N_KINDS		lengthof(kind_names)
#define MAX_TOP		1000

typedef struct KeyEntry
{
	uint64		key;
	uint32		count;			/* fingerprints that hold the key */
	char		status;
} KeyEntry;

#define SH_PREFIX		keytab
#define SH_ELEMENT_TYPE	KeyEntry
#define SH_KEY_TYPE		uint64
#define SH_KEY			key
#define SH_HASH_KEY(tb, k)	((uint32) ls_fmix64(k))
#define SH_EQUAL(tb, a, b)	((a) == (b))
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

typedef struct SharedKeysState
{
	keytab_hash *tab;
	int32		top;			/* keys of each kind to report */
} SharedKeysState;

/* Count one key of a fingerprint. */
static inline void
count_key(SharedKeysState *st, int kind, uint32 hash)
{
	bool		found;
	KeyEntry   *e = keytab_insert(st->tab, ((uint64) kind << 32) | hash, &found);

	e->count = found ? e->count + 1 : 1;
}

/*
 * Transition: (state, fp, top).  Every key of a fingerprint is distinct
 * within its kind (bottom-k hashes, scaffold keys ascending), so a key's
 * count is the number of fingerprints that hold it.  A NULL fingerprint
 * adds nothing; top is the first row's and must be 1 to 1000.
 */
Datum
fingerprint_shared_keys_trans(PG_FUNCTION_ARGS)
{
	MemoryContext ctx;
	SharedKeysState *st;
	Fingerprint *fp;

	if (!AggCheckCallContext(fcinfo, &ctx))
		elog(ERROR, "fingerprint_shared_keys_trans called in non-aggregate context");
	if (PG_ARGISNULL(0))
	{
		int32		top = PG_ARGISNULL(2) ? -1 : PG_GETARG_INT32(2);

		if (top < 1 || top > MAX_TOP)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("top must be between 1 and %d", MAX_TOP),
					 errdetail(PG_ARGISNULL(2) ? "The value was NULL." : "The value was %d.", top)));
		st = MemoryContextAlloc(ctx, sizeof(SharedKeysState));
		st->tab = keytab_create(ctx, 1024, NULL);
		st->top = top;
	}
	else
		st = (SharedKeysState *) PG_GETARG_POINTER(0);
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(st);

	fp = ls_fp_arg(fcinfo, 1);
	{
		const uint32 *infra[] = {fp->ip, fp->ua, fp->pay};
		const int	n_infra[] = {fp->n_ip, fp->n_ua, fp->n_pay};
		const LsKeyCount *keys = LS_FP_KEYS(fp);

		for (int k = 0; k < (int) lengthof(infra); k++)
			for (int i = 0; i < n_infra[k]; i++)
				count_key(st, k, infra[k][i]);
		for (int i = 0; i < fp->n_keys; i++)
			count_key(st, N_KINDS - 1, keys[i].key);
	}
	PG_RETURN_POINTER(st);
}

/* Kind first, then more fingerprints first, then the smaller key. */
static int
entry_cmp(const void *a, const void *b)
{
	const KeyEntry *x = a;
	const KeyEntry *y = b;

	if ((x->key >> 32) != (y->key >> 32))
		return (x->key >> 32) < (y->key >> 32) ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->key < y->key ? -1 : (x->key > y->key ? 1 : 0);
}

/*
 * Final: the keys more than one fingerprint holds, the first top of each
 * kind, as lockstep_shared_key (kind, rank, key, accounts) in the order of
 * kind and rank.  Reads the state only.
 */
Datum
fingerprint_shared_keys_final(PG_FUNCTION_ARGS)
{
	SharedKeysState *st;
	keytab_iterator it;
	KeyEntry   *e;
	KeyEntry   *shared;
	int			n = 0;
	Oid			elemtype;
	int16		elemlen;
	bool		elembyval;
	char		elemalign;
	TupleDesc	desc;
	Datum	   *out;
	int			n_out = 0;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (SharedKeysState *) PG_GETARG_POINTER(0);

	shared = palloc(sizeof(KeyEntry) * Max(st->tab->members, 1));
	keytab_start_iterate(st->tab, &it);
	while ((e = keytab_iterate(st->tab, &it)) != NULL)
		if (e->count > 1)
			shared[n++] = *e;
	qsort(shared, n, sizeof(KeyEntry), entry_cmp);

	elemtype = get_element_type(get_func_rettype(fcinfo->flinfo->fn_oid));
	if (!OidIsValid(elemtype))
		elog(ERROR, "fingerprint_shared_keys_final must return an array");
	get_typlenbyvalalign(elemtype, &elemlen, &elembyval, &elemalign);
	desc = lookup_rowtype_tupdesc_copy(elemtype, -1);
	out = palloc(sizeof(Datum) * Max(Min(n, st->top * (int) N_KINDS), 1));
	for (int i = 0, rank = 0; i < n; i++)
	{
		Datum		v[4];
		bool		nulls[4] = {0};

		rank = (i > 0 && (shared[i].key >> 32) == (shared[i - 1].key >> 32)) ? rank + 1 : 1;
		if (rank > st->top)
			continue;
		v[0] = CStringGetTextDatum(kind_names[shared[i].key >> 32]);
		v[1] = Int32GetDatum(rank);
		v[2] = Int64GetDatum((int64) (uint32) shared[i].key);
		v[3] = Int32GetDatum((int32) shared[i].count);
		out[n_out++] = HeapTupleGetDatum(heap_form_tuple(desc, v, nulls));
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(out, n_out, elemtype, elemlen, elembyval, elemalign));
}
