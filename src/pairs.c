/*
 * pairs.c
 *	  fingerprint_similar_pairs: every pair of a fingerprint set whose
 *	  similarity reaches a threshold, in one call, without comparing all
 *	  pairs.
 *
 * 1. Run the query (id, fingerprint), keep the fingerprints and their LSH
 *    band keys (lsh.c) in memory, within lockstep.pairs_memory_limit.
 * 2. Sort the (key, account) entries: equal keys form buckets, members of
 *    a bucket in account order, so that the accounts j > i of a bucket are
 *    those after i.
 * 3. For each account i, the candidates are the accounts j > i that share
 *    at least LS_MIN_SHARED_KEYS of its keys; each is rechecked once with
 *    the exact similarity, on fingerprints prepared once (ls_prepare).
 *    (Clustering's cores step over runs of entries already linked to i:
 *    ls_pairs_track_runs.)  A pair at or above 0.5 shares keys in several
 *    bands of several channels: on a 1M-row generated log, 20 of 731,976
 *    such pairs shared fewer than 4 keys, against 432,380 of the 1,281,734
 *    pairs that shared any, so the filter saves a third of the rechecks
 *    for a recall loss of 3e-5 (bench/pair_stats.sh).
 *
 * Skew: a bucket larger than max_bucket (a key thousands of accounts
 * share: a carrier's NAT network, a campaign's job windows) would give
 * millions of candidates.  Such a bucket is cut so that an account meets
 * at most about max_bucket of its members: at most n * max_bucket / 2
 * candidates instead of n^2 / 2.  How it is cut depends on what the
 * caller needs (LsSplit):
 *	- the join wants every pair, so each large bucket is dealt into
 *	  ceil(n / max_bucket) parts by a hash of (account, key), afresh for
 *	  each key: a pair that shares many keys meets in some of them, and a
 *	  pair that shares only that key is found with probability about
 *	  max_bucket / n (test/t/005_lsh.pl measures the recall);
 *	- clustering wants each campaign connected, so an account is paired
 *	  with the max_bucket / 2 members on either side of it in the bucket.
 *	  Two accounts close in the fixed order are then neighbours in every
 *	  large bucket they share, and their shared keys add up to
 *	  LS_MIN_SHARED_KEYS however large the campaign; the neighbourhoods
 *	  overlap, so it stays connected.  Dealt into parts instead, a pair of
 *	  a campaign 56 times max_bucket almost never met in four keys, and
 *	  the campaign fell apart (test/t/010_evasions.pl).
 * Every bucket lists its members in one fixed order of the accounts, by
 * a hash of the id, so the candidates do not depend on the order of the
 * query's rows.
 */
#include "lsh.h"
#include "format.h"
#include "pairs.h"
#include "sqlapi.h"
#include "hashing.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include <sys/mman.h>

PG_FUNCTION_INFO_V1(fingerprint_similar_pairs);

#define LS_PREFETCH_AHEAD	4	/* candidates whose data is requested early */


/* One LSH key of one account. */
struct LsEntry
{
	uint64		key;
	uint32		idx;			/* account number */
	uint32		part;			/* its part of a bucket dealt into parts */
};

/*
 * Sort entries by key, then by account, as they arrive in account order:
 * a stable LSD radix sort on the key, 16 bits a pass, through tmp (as
 * large as entries).  Linear, and it checks for interrupts as it goes,
 * which a comparison sort of millions of entries would not.
 */
static void
sort_entries(LsEntry *entries, int64 n, LsEntry *tmp)
{
	int64	   *count = palloc_array(int64, 1 << 16);
	LsEntry    *from = entries;
	LsEntry    *to = tmp;

	for (int shift = 0; shift < 64; shift += 16)
	{
		int64		sum = 0;
		LsEntry    *t;

		memset(count, 0, (1 << 16) * sizeof(int64));
		for (int64 i = 0; i < n; i++)
			count[(from[i].key >> shift) & 0xFFFF]++;
		for (int d = 0; d < (1 << 16); d++)
		{
			int64		c = count[d];

			count[d] = sum;
			sum += c;
		}
		for (int64 i = 0; i < n; i++)
		{
			if ((i & 0xFFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
			to[count[(from[i].key >> shift) & 0xFFFF]++] = from[i];
		}
		t = from;
		from = to;
		to = t;
	}
	/* four passes: the sorted entries are back in entries */
	Assert(from == entries);
	pfree(count);
}

/*
 * A large array of the index.  Tens to hundreds of megabytes are
 * allocated afresh by each call and first touched a page at a time: on a
 * 16M-row window, 363,000 page faults in one clustering of 17.6 s.  Where
 * the kernel offers transparent huge pages on request, the array's
 * aligned middle asks for them: a fault per 2 MB instead of per 4 kB.
 */
static void *
huge_array(Size size)
{
	void	   *p = palloc_extended(size, MCXT_ALLOC_HUGE);

#ifdef MADV_HUGEPAGE
	{
		const uintptr_t huge = 2 * 1024 * 1024;
		uintptr_t	lo = TYPEALIGN(huge, (uintptr_t) p);
		uintptr_t	hi = TYPEALIGN_DOWN(huge, (uintptr_t) p + size);

		if (hi > lo)
			(void) madvise((void *) lo, hi - lo, MADV_HUGEPAGE);	/* only advice */
	}
#endif
	return p;
}

/* An account's place in the fixed order: a hash of its id, then the id. */
typedef struct LsRank
{
	uint64		hash;
	int64		id;
	int32		idx;			/* account number as read */
} LsRank;

#define ST_SORT sort_ranks
#define ST_ELEMENT_TYPE LsRank
#define ST_COMPARE(a, b) \
	((a)->hash != (b)->hash ? ((a)->hash > (b)->hash) - ((a)->hash < (b)->hash) : \
	 ((a)->id > (b)->id) - ((a)->id < (b)->id))
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/*
 * Renumber the accounts in the fixed order and their entries with them:
 * the ids and the fingerprints as read (pointers) move, in place.
 */
static void
renumber_accounts(LsPairIndex *ix, const Fingerprint **raw, int n, LsEntry *entries, int64 nentries)
{
	LsRank	   *ranks = palloc_extended(Max(n, 1) * sizeof(LsRank), MCXT_ALLOC_HUGE);
	int32	   *dest = palloc_extended(Max(n, 1) * sizeof(int32), MCXT_ALLOC_HUGE);

	for (int i = 0; i < n; i++)
	{
		ranks[i].hash = ls_fmix64((uint64) ix->ids[i]);
		ranks[i].id = ix->ids[i];
		ranks[i].idx = i;
	}
	sort_ranks(ranks, n);
	for (int r = 0; r < n; r++)
		dest[ranks[r].idx] = r;
	pfree(ranks);
	for (int64 e = 0; e < nentries; e++)
		entries[e].idx = dest[entries[e].idx];
	/* follow each cycle of the permutation, swapping into place */
	for (int i = 0; i < n; i++)
	{
		while (dest[i] != i)
		{
			int32		j = dest[i];
			int64		id = ix->ids[i];
			const Fingerprint *fp = raw[i];

			ix->ids[i] = ix->ids[j];
			ix->ids[j] = id;
			raw[i] = raw[j];
			raw[j] = fp;
			dest[i] = dest[j];
			dest[j] = j;
		}
	}
	pfree(dest);
}

/* Prepare fingerprint i for its rechecks. */
void
ls_pairs_prepare(LsPairIndex *ix, int32 i)
{
	ls_prepare_all(ix->raw[i], &ix->fps[i]);
	/* never 0, which means "not computed" */
	ix->fps[i].digest = ls_hash_bytes(ix->raw[i], VARSIZE(ix->raw[i]), 0) | 1;
	if (ix->lazy)
		ix->ready[i] = true;
}

/*
 * Copies of the fingerprints read, packed into large blocks: a
 * fingerprint is about 1.4 kB, which palloc would round up to 2 kB, and
 * hundreds of thousands of them are held at once.
 */
typedef struct LsArena
{
	char	   *next;
	Size		left;
} LsArena;

#define LS_ARENA_BLOCK	(4 * 1024 * 1024)

static Fingerprint *
arena_copy(LsArena *arena, Datum d, Size *used, const char *caller)
{
	struct varlena *v = PG_DETOAST_DATUM(d);
	Size		size = VARSIZE(v);
	Size		aligned = MAXALIGN(size);
	Fingerprint *copy;

	if (aligned > arena->left)
	{
		Size		block = Max(LS_ARENA_BLOCK, aligned);

		ls_memory_charge(used, block, caller);
		arena->next = huge_array(block);
		arena->left = block;
	}
	copy = (Fingerprint *) arena->next;
	memcpy(copy, v, size);
	arena->next += aligned;
	arena->left -= aligned;
	if ((Pointer) v != DatumGetPointer(d))
		pfree(v);
	return copy;
}

/*
 * Entries in account order, from entries into out: a counting sort on
 * the account, so that the stable sort by key leaves each bucket's
 * members in account order.
 */
static void
order_by_account(const LsEntry *entries, int64 nentries, LsEntry *out, int n)
{
	int64	   *start = palloc0_array(int64, n + 1);

	for (int64 e = 0; e < nentries; e++)
		start[entries[e].idx + 1]++;
	for (int i = 0; i < n; i++)
		start[i + 1] += start[i];
	for (int64 e = 0; e < nentries; e++)
		out[start[entries[e].idx]++] = entries[e];
	pfree(start);
}

/* By part, then by account: within a bucket dealt into parts. */
static int
cmp_entry_part(const void *a, const void *b)
{
	const LsEntry *x = a;
	const LsEntry *y = b;

	if (x->part != y->part)
		return x->part < y->part ? -1 : 1;
	return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

/* sort_int32: an ascending sort with the comparison inlined */
#define ST_SORT sort_int32
#define ST_ELEMENT_TYPE int32
#define ST_COMPARE(a, b) ((*(a) > *(b)) - (*(a) < *(b)))
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/*
 * Steps 1 and 2: read the query's (id, fingerprint) rows and sort their
 * keys into buckets.  Everything is allocated in the current memory
 * context and charged to ix->used.
 */
void
ls_pairs_build(LsPairIndex *ix, FunctionCallInfo fcinfo, const char *query,
			   int bands, int rows, int max_bucket)
{
	MemoryContext work = CurrentMemoryContext;
	Oid			fp_type = ls_fingerprint_type_oid(fcinfo);
	int			n = 0,
				cap = 64;
	int64		nentries = 0,
				entries_cap = 64 * LS_LSH_CHANNELS;
	LsEntry    *entries;
	const Fingerprint **raw;	/* as read, then in the fixed order */
	LsArena		arena = {0};
	Portal		portal;

	ls_lsh_check(bands, rows);
	if (max_bucket < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_bucket must be positive"),
				 errdetail("The value was %d.", max_bucket)));
	/* arrays are charged by capacity, as they grow */
	ls_memory_charge(&ix->used, cap * (sizeof(int64) + sizeof(Fingerprint *)) +
					 entries_cap * sizeof(LsEntry), ix->caller);
	ix->ids = palloc(cap * sizeof(int64));
	raw = palloc(cap * sizeof(Fingerprint *));
	entries = palloc(entries_cap * sizeof(LsEntry));

	portal = ls_query_open(query);
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
						 errmsg("at most %d fingerprints can be joined", INT32_MAX - 1)));
			MemoryContextSwitchTo(work);
			if (n == cap)
			{
				ls_memory_charge(&ix->used, cap * (sizeof(int64) + sizeof(Fingerprint *)),
								 ix->caller);
				cap *= 2;
				ix->ids = repalloc_huge(ix->ids, cap * sizeof(int64));
				raw = repalloc_huge(raw, cap * sizeof(Fingerprint *));
			}
			fp = arena_copy(&arena, fpd, &ix->used, ix->caller);
			ls_check_version(fp);
			ix->ids[n] = TupleDescAttr(desc, 0)->atttypid == INT8OID ?
				DatumGetInt64(id) : (int64) DatumGetInt32(id);
			raw[n] = fp;
			nk = ls_lsh_keys_of(fp, bands, rows, ix->key_channels ? ix->key_channels : LS_LSH_KEY_ALL, keys);
			if (nentries + nk > entries_cap)
			{
				ls_memory_charge(&ix->used, entries_cap * sizeof(LsEntry), ix->caller);
				entries_cap *= 2;
				entries = repalloc_huge(entries, entries_cap * sizeof(LsEntry));
			}
			for (int k = 0; k < nk; k++)
			{
				entries[nentries].key = keys[k];
				entries[nentries].idx = n;
				entries[nentries].part = 0;
				nentries++;
			}
			n++;
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	SPI_finish();
	MemoryContextSwitchTo(work);

	/* buckets: equal keys, members in the fixed order of the accounts */
	ls_memory_charge(&ix->used, nentries * sizeof(LsEntry) +
					 n * (sizeof(LsRank) + sizeof(int32)), ix->caller);
	renumber_accounts(ix, raw, n, entries, nentries);

	/*
	 * the fingerprints prepared for their rechecks, in that order: prepared
	 * as they were read, the array grew by copying and was then permuted,
	 * which moved each 1.8 kB value about four times.  A lazy index
	 * prepares each when it is first compared (fingerprint_attach compares
	 * a few of the members it reads): the pages of those never compared
	 * are never touched.
	 */
	ls_memory_charge(&ix->used, Max(n, 1) * sizeof(LsPrepared), ix->caller);
	ix->fps = huge_array(Max(n, 1) * sizeof(LsPrepared));
	ix->raw = raw;
	if (ix->lazy)
	{
		ls_memory_charge(&ix->used, Max(n, 1) * sizeof(bool), ix->caller);
		ix->ready = palloc0_array(bool, Max(n, 1));
	}
	else
	{
		for (int i = 0; i < n; i++)
		{
			if ((i & 0xFFF) == 0)
				CHECK_FOR_INTERRUPTS();
			ls_pairs_prepare(ix, i);
		}
		pfree(raw);
		ix->raw = NULL;
	}
	{
		LsEntry    *sorted = huge_array(Max(nentries, 1) * sizeof(LsEntry));

		order_by_account(entries, nentries, sorted, n);
		sort_entries(sorted, nentries, entries);
		pfree(entries);
		entries = sorted;
	}
	ls_memory_charge(&ix->used, nentries * (3 * sizeof(int64) + sizeof(int32)) +
					 (n + 1) * sizeof(int64) + n * (sizeof(LsSeen) + sizeof(int32)),
					 ix->caller);
	ix->n = n;
	ix->nentries = nentries;
	ix->member = huge_array(Max(nentries, 1) * sizeof(int32));
	ix->first = palloc0_array(int64, n + 1);
	ix->pos = huge_array(Max(nentries, 1) * sizeof(int64));
	ix->bstart = huge_array(Max(nentries, 1) * sizeof(int64));
	ix->bend = huge_array(Max(nentries, 1) * sizeof(int64));
	ix->seen = palloc_array(LsSeen, Max(n, 1));
	ix->cand = palloc_array(int32, Max(n, 1));
	/* each entry's range of partners: its bucket, or a cut of a large one */
	for (int64 e = 0, end; e < nentries; e = end)
	{
		int64		size;

		for (end = e + 1; end < nentries && entries[end].key == entries[e].key; end++)
			;
		size = end - e;
		if (size <= max_bucket)
		{
			for (int64 q = e; q < end; q++)
			{
				ix->bstart[q] = e;
				ix->bend[q] = end;
			}
			continue;
		}
		ix->split++;
		ix->largest = Max(ix->largest, size);
		if (ix->split_mode == LS_SPLIT_NEIGHBOURS)
		{
			int64		half = Max(max_bucket / 2, 1);

			for (int64 q = e; q < end; q++)
			{
				ix->bstart[q] = Max(e, q - half);
				ix->bend[q] = Min(end, q + half + 1);
			}
		}
		else
		{
			uint64		parts = (size + max_bucket - 1) / max_bucket;

			for (int64 q = e; q < end; q++)
				entries[q].part = (uint32) (ls_fmix64(((uint64) entries[q].idx << 8) ^
													  entries[q].key) % parts);
			qsort(entries + e, size, sizeof(LsEntry), cmp_entry_part);
			for (int64 q = e, pend; q < end; q = pend)
			{
				for (pend = q + 1; pend < end && entries[pend].part == entries[q].part; pend++)
					;
				for (int64 r = q; r < pend; r++)
				{
					ix->bstart[r] = q;
					ix->bend[r] = pend;
				}
			}
		}
	}
	for (int64 e = 0; e < nentries; e++)
	{
		ix->member[e] = entries[e].idx;
		ix->first[entries[e].idx + 1]++;
	}
	pfree(entries);
	for (int i = 0; i < n; i++)
		ix->first[i + 1] += ix->first[i];
	ls_pairs_restart(ix);
	{
		int64	   *fill = palloc_array(int64, Max(n, 1));

		memcpy(fill, ix->first, n * sizeof(int64));
		for (int64 e = 0; e < nentries; e++)
			ix->pos[fill[ix->member[e]]++] = e;
		pfree(fill);
	}
}

/* The first entry of q's run, halving the path on the way. */
static inline int64
run_start(int32 *runs, int64 q)
{
	while (runs[q] > 0)
	{
		int64		p = q - runs[q];

		if (runs[p] > 0)
			runs[q] += runs[p];
		q = p;
	}
	return q;
}

/* Entry q's account as a candidate of account i. */
static inline void
visit_entry(LsPairIndex *ix, int64 q, int64 hi, int i, uint16 stamp, int *ncand)
{
	int			j = ix->member[q];
	LsSeen	   *s = &ix->seen[j];

	if (q + 16 < hi && !ix->skip)
		__builtin_prefetch(&ix->seen[ix->member[q + 16]]);
	if (j == i)
		return;
	if (s->mark != stamp)
	{
		s->mark = stamp;
		s->hits = 1;
		ix->cand[(*ncand)++] = j;
	}
	else
		s->hits++;
}

/*
 * Step 3: the candidates of account i, in ix->cand, in no particular
 * order; their number is returned.  With later_only, only accounts j > i, so that each pair is
 * seen once over all i.  Within one pass over the accounts each i is
 * passed once; ls_pairs_restart begins another pass.
 */
int
ls_pairs_candidates(LsPairIndex *ix, int i, bool later_only)
{
	int			ncand = 0;
	uint16		stamp;
	int32		own = ix->runs ? ix->component(ix->component_arg, i) : -1;

	/* a new stamp for this scan; when they run out, every mark is cleared */
	if (++ix->stamp == 0)
	{
		ls_pairs_restart(ix);
		ix->stamp = 1;
	}
	stamp = ix->stamp;

	for (int64 k = ix->first[i]; k < ix->first[i + 1]; k++)
	{
		int64		p = ix->pos[k];
		int64		lo = later_only ? p + 1 : ix->bstart[p];
		int64		hi = ix->bend[p];

		if (ix->runs)
		{
			Assert(!ix->skip);	/* untracked before ls_pairs_restrict */
			/*
			 * a run of accounts already in i's component adds no
			 * candidate worth a recheck, and no key to another's count
			 */
			for (int64 q = lo; q < hi;)
			{
				int64		r = run_start(ix->runs, q);
				int64		end = Min(r - ix->runs[r], hi);

				if (end - q >= 4 && ix->component(ix->component_arg, ix->member[q]) == own)
				{
					q = end;
					continue;
				}
				for (; q < end; q++)
					visit_entry(ix, q, hi, i, stamp, &ncand);
			}
			continue;
		}
		for (int64 q = lo; q < hi; q++)
		{
			if (ix->skip && ix->skip[q] > 0)
			{
				q += ix->skip[q] - 1;	/* the loop's q++ lands on it */
				continue;
			}
			visit_entry(ix, q, hi, i, stamp, &ncand);
		}
	}
	ix->candidates += ncand;
	if (ix->min_shared > 1)
	{
		int			kept = 0;

		for (int c = 0; c < ncand; c++)
			if (ix->seen[ix->cand[c]].hits >= ix->min_shared)
				ix->cand[kept++] = ix->cand[c];
		ncand = kept;
	}
	return ncand;
}

/*
 * From now on, only the accounts whose label is not negative are
 * candidates: a scan steps over the others' entries in one jump each.
 * A kept account's shared keys are still the windows it is in, all of
 * which are still scanned, so the candidates returned are exactly those
 * of the unrestricted index that are kept.  For a pass that looks for a
 * few accounts (clustering's attachment: the members of cores), most
 * entries of a large bucket are not visited.  Charged to the index's
 * memory.
 */
void
ls_pairs_restrict(LsPairIndex *ix, const int32 *label)
{
	int64		next = ix->nentries;

	ls_memory_charge(&ix->used, Max(ix->nentries, 1) * sizeof(int32), ix->caller);
	ix->skip = huge_array(Max(ix->nentries, 1) * sizeof(int32));
	for (int64 q = ix->nentries - 1; q >= 0; q--)
	{
		if (label[ix->member[q]] >= 0)
			next = q;
		/* a jump past INT32_MAX lands short and jumps again */
		ix->skip[q] = (int32) Min(next - q, (int64) PG_INT32_MAX);
	}
}

/*
 * Runs of entries in one component, for a pass that links accounts
 * (clustering's cores): a scan with later_only steps over a run of
 * accounts already in the current account's component in one jump.  Such
 * a pass asks nothing of them (their link is made), and their keys count
 * toward no other candidate, so the candidates it rechecks are the same.
 * A campaign's accounts fill large buckets whose windows every member
 * scans again; once its component has formed, those windows are a few
 * runs.  component labels the accounts (a union-find's roots): entries
 * whose labels were once equal stay in one component, as unions only
 * merge.  Each entry starts as a run of its own; ls_pairs_merge_runs
 * joins neighbouring runs.
 */
void
ls_pairs_track_runs(LsPairIndex *ix, LsComponentFn component, void *arg)
{
	ls_memory_charge(&ix->used, Max(ix->nentries, 1) * sizeof(int32), ix->caller);
	ix->runs = huge_array(Max(ix->nentries, 1) * sizeof(int32));
	for (int64 q = 0; q < ix->nentries; q++)
		ix->runs[q] = -1;
	ix->component = component;
	ix->component_arg = arg;
}

/*
 * Join the neighbouring runs of one component within the windows account
 * i scans (after its links are made): a step per run, so a window of one
 * component costs one step the next time.
 */
void
ls_pairs_merge_runs(LsPairIndex *ix, int i)
{
	int32	   *runs = ix->runs;

	for (int64 k = ix->first[i]; k < ix->first[i + 1]; k++)
	{
		int64		p = ix->pos[k];
		int64		hi = ix->bend[p];
		int64		r = run_start(runs, p);

		while (r - runs[r] < hi)
		{
			int64		next = r - runs[r];	/* the first entry of the next run */

			if (ix->component(ix->component_arg, ix->member[r]) !=
				ix->component(ix->component_arg, ix->member[next]) ||
				(int64) runs[r] + runs[next] < -PG_INT32_MAX)
			{
				r = next;
				continue;
			}
			runs[r] += runs[next];
			runs[next] = (int32) (next - r);
		}
	}
}

/* Stop tracking runs. */
void
ls_pairs_untrack_runs(LsPairIndex *ix)
{
	if (ix->runs)
		pfree(ix->runs);
	ix->runs = NULL;
}

/* Forget which candidates were seen: a new pass over the accounts. */
void
ls_pairs_restart(LsPairIndex *ix)
{
	for (int i = 0; i < ix->n; i++)
		ix->seen[i].mark = 0;
}

/* The state of one fingerprint_similar_pairs call, between its rows. */
typedef struct LsPairScan
{
	LsPairIndex ix;
	MemoryContext work;			/* holds the index */
	TupleDesc	desc;
	double		threshold;
	int			i;				/* the current account */
	int			ncand;			/* its candidates, sorted, in ix.cand */
	int			next;			/* the next candidate to recheck */
	int64		found;
	uint64	   *bits;			/* one bit per account, all clear between calls */
} LsPairScan;

/*
 * Put the candidates of an account in ascending order, so that the
 * recheck reads the prepared fingerprints in memory order.  A long list
 * (a campaign's account has thousands) goes through the bitmap: set,
 * then read back in order, clearing as it goes; that costs a word per 64
 * accounts of the candidates' range, against n log n comparisons.
 */
static void
sort_candidates(LsPairScan *st, int ncand)
{
	int32	   *cand = st->ix.cand;
	int32		lo = INT32_MAX,
				hi = -1;
	int			n = 0;

	for (int c = 0; c < ncand; c++)
	{
		lo = Min(lo, cand[c]);
		hi = Max(hi, cand[c]);
	}
	if (ncand < 64 || (hi >> 6) - (lo >> 6) >= 8 * ncand)
	{
		sort_int32(cand, ncand);
		return;
	}
	for (int c = 0; c < ncand; c++)
		st->bits[cand[c] >> 6] |= UINT64CONST(1) << (cand[c] & 63);
	for (int w = lo >> 6; w <= hi >> 6; w++)
	{
		uint64		b = st->bits[w];

		st->bits[w] = 0;
		for (; b != 0; b &= b - 1)
			cand[n++] = w * 64 + pg_rightmost_one_pos64(b);
	}
	Assert(n == ncand);
}

/*
 * fingerprint_similar_pairs(query, threshold, bands, rows, max_bucket)
 * returns (a, b, similarity), each pair once (a before b in the fixed
 * order of the accounts, which is not the order of their ids).  A
 * NULL threshold means lockstep.similarity_threshold.
 *
 * One row per call (value-per-call): called in a select list, rows stream
 * to the consumer as they are found; in FROM, PostgreSQL stores them all
 * in a tuplestore first, which at hundreds of millions of pairs spills to
 * disk.  The first call builds the index; each call then resumes the scan
 * where the last one returned.
 */
Datum
fingerprint_similar_pairs(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	LsPairScan *st;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext old;

		funcctx = SRF_FIRSTCALL_INIT();
		old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		st = palloc0(sizeof(LsPairScan));
		st->ix.caller = "fingerprint_similar_pairs";
		st->ix.min_shared = LS_MIN_SHARED_KEYS;
		st->ix.split_mode = LS_SPLIT_PARTS;
		st->threshold = ls_query_threshold_args(fcinfo, st->ix.caller);
		if (get_call_result_type(fcinfo, NULL, &st->desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "fingerprint_similar_pairs must return a row type");
		st->desc = BlessTupleDesc(st->desc);
		st->work = AllocSetContextCreate(funcctx->multi_call_memory_ctx,
										 "fingerprint_similar_pairs", ALLOCSET_DEFAULT_SIZES);
		MemoryContextSwitchTo(st->work);
		ls_pairs_build(&st->ix, fcinfo, text_to_cstring(PG_GETARG_TEXT_PP(0)),
					   ls_int_arg(fcinfo, 2, LS_LSH_BANDS), ls_int_arg(fcinfo, 3, LS_LSH_ROWS),
					   ls_int_arg(fcinfo, 4, LS_JOIN_MAX_BUCKET));
		ls_memory_charge(&st->ix.used, (st->ix.n / 64 + 1) * sizeof(uint64), st->ix.caller);
		st->bits = palloc0_array(uint64, st->ix.n / 64 + 1);
		st->i = -1;
		MemoryContextSwitchTo(old);
		funcctx->user_fctx = st;
	}
	funcctx = SRF_PERCALL_SETUP();
	st = funcctx->user_fctx;

	for (;;)
	{
		LsPairIndex *ix = &st->ix;

		while (st->next < st->ncand)
		{
			int			c = st->next++;
			int			j = ix->cand[c];
			double		s;

			if (c + LS_PREFETCH_AHEAD < st->ncand)
				ls_prepared_prefetch(&ix->fps[ix->cand[c + LS_PREFETCH_AHEAD]]);
			if (ls_prepared_at_least(&ix->fps[st->i], &ix->fps[j], ls_default_weights,
									 st->threshold, &s))
			{
				Datum		v[3];
				bool		nulls[3] = {false, false, false};

				v[0] = Int64GetDatum(ix->ids[st->i]);
				v[1] = Int64GetDatum(ix->ids[j]);
				v[2] = Float8GetDatum(s);
				st->found++;
				SRF_RETURN_NEXT(funcctx, HeapTupleGetDatum(heap_form_tuple(st->desc, v, nulls)));
			}
		}
		if (++st->i >= ix->n)
			break;
		CHECK_FOR_INTERRUPTS();
		st->ncand = ls_pairs_candidates(ix, st->i, true);
		/* recheck in memory order: prefetching then runs ahead in one direction */
		sort_candidates(st, st->ncand);
		st->next = 0;
	}

	ereport(DEBUG1,
			(errmsg("fingerprint_similar_pairs: %d fingerprints, " INT64_FORMAT " keys, "
					INT64_FORMAT " buckets split over max_bucket (largest " INT64_FORMAT "), "
					INT64_FORMAT " candidate pairs, " INT64_FORMAT " pairs at or above %g",
					st->ix.n, st->ix.nentries, st->ix.split, st->ix.largest,
					st->ix.candidates, st->found, st->threshold)));
	MemoryContextDelete(st->work);
	SRF_RETURN_DONE(funcctx);
}
