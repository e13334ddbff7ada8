/*
 * cluster.c
 *	  From pairs to campaigns: connected components with a cohesion step.
 *
 * Both functions here build clusters the same way:
 *
 * 1. Core: the connected components of the strong edges (similarity or
 *    weight at least core_threshold), by union-find.  A component of at
 *    least min_size nodes is a core; its label is its smallest node id.
 * 2. Attachment: a node outside every core joins the core of its strongest
 *    remaining edge into one (ties: the smaller label), if it has one.
 *
 * Two cores never merge through weak edges or through an attached node, so
 * two campaigns bridged by a few noisy edges below core_threshold, or a
 * campaign bridged to legitimate accounts, stay apart: that is the
 * cohesion step, a higher-threshold core in the spirit of DBSCAN's core
 * points.  With core_threshold at the edge threshold and min_size 1 it is
 * plain connected components.
 *
 * lockstep_clusters reads an edge list (pgRouting's convention: a query
 * yielding source, target and an optional weight).  fingerprint_clusters
 * reads fingerprints and takes its edges from LSH candidates (pairs.c),
 * rechecking a candidate only when its two ends are not yet in the same
 * component: a campaign of n accounts costs about n rechecks instead of
 * the n^2 / 2 that listing its pairs would.
 */
#include "pairs.h"
#include "sqlapi.h"
#include "hashing.h"
#include "lockstep.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(lockstep_clusters);
PG_FUNCTION_INFO_V1(fingerprint_clusters);
PG_FUNCTION_INFO_V1(fingerprint_attach);
PG_FUNCTION_INFO_V1(lockstep_cluster_defaults);
PG_FUNCTION_INFO_V1(lockstep_cluster_limits);

/* Union-find over dense node numbers, by size with path halving. */
typedef struct UnionFind
{
	int32	   *parent;
	int32	   *size;
} UnionFind;

static inline int32
uf_find(UnionFind *uf, int32 x)
{
	while (uf->parent[x] != x)
	{
		uf->parent[x] = uf->parent[uf->parent[x]];
		x = uf->parent[x];
	}
	return x;
}

/* Join the sets of a and b; return the new root. */
static inline int32
uf_union(UnionFind *uf, int32 a, int32 b)
{
	a = uf_find(uf, a);
	b = uf_find(uf, b);
	if (a == b)
		return a;
	if (uf->size[a] < uf->size[b])
	{
		int32		t = a;

		a = b;
		b = t;
	}
	uf->parent[b] = a;
	uf->size[a] += uf->size[b];
	return a;
}

/* A node's component, as pairs.c asks for it. */
static int32
uf_component(void *arg, int32 x)
{
	return uf_find((UnionFind *) arg, x);
}

static void
uf_resize(UnionFind *uf, int32 old_cap, int32 cap)
{
	uf->parent = old_cap ? repalloc_huge(uf->parent, cap * sizeof(int32)) :
		palloc_extended(cap * sizeof(int32), MCXT_ALLOC_HUGE);
	uf->size = old_cap ? repalloc_huge(uf->size, cap * sizeof(int32)) :
		palloc_extended(cap * sizeof(int32), MCXT_ALLOC_HUGE);
}

/*
 * Cores once the strong edges are in: core[x] is the node of x's
 * component with the smallest id (the cluster's label), or -1 when the
 * component is smaller than min_size.  Cores are node numbers, not ids,
 * so every bigint, negative ones too, can be an id.
 */
static int32 *
find_cores(UnionFind *uf, const int64 *ids, int32 n, int32 min_size)
{
	int32	   *smallest = palloc_extended(Max(n, 1) * sizeof(int32), MCXT_ALLOC_HUGE);
	int32	   *core = palloc_extended(Max(n, 1) * sizeof(int32), MCXT_ALLOC_HUGE);

	for (int32 x = 0; x < n; x++)
		smallest[x] = -1;
	for (int32 x = 0; x < n; x++)
	{
		int32		r = uf_find(uf, x);

		if (smallest[r] < 0 || ids[x] < ids[smallest[r]])
			smallest[r] = x;
	}
	for (int32 x = 0; x < n; x++)
	{
		int32		r = uf_find(uf, x);

		core[x] = uf->size[r] >= min_size ? smallest[r] : -1;
	}
	pfree(smallest);
	return core;
}

/* The best edge offered so far from a node outside every core into one. */
typedef struct Attachment
{
	int32		core;			/* -1: none yet */
	double		w;
} Attachment;

/*
 * The attachment rule: a node joins the core of its strongest edge into
 * one; ties go to the core with the smaller id.
 */
static inline void
offer_attachment(Attachment *a, int32 core, double w, const int64 *ids)
{
	if (a->core < 0 || w > a->w || (w == a->w && ids[core] < ids[a->core]))
	{
		a->core = core;
		a->w = w;
	}
}

static void
check_min_size(int32 min_size)
{
	if (min_size < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_size must be positive"),
				 errdetail("The value was %d.", min_size)));
}

/* Node ids to dense numbers: open addressing on int64. */
typedef struct NodeMap
{
	uint64		mask;			/* slots - 1 */
	int64	   *keys;
	int32	   *slot;			/* dense number, or -1 when empty */
	int32		n;
	int32		cap;			/* of ids and the union-find */
	int64	   *ids;			/* dense number -> id */
} NodeMap;

static void
nodemap_init(NodeMap *m, uint64 slots)
{
	m->mask = slots - 1;
	m->keys = palloc_extended(slots * sizeof(int64), MCXT_ALLOC_HUGE);
	m->slot = palloc_extended(slots * sizeof(int32), MCXT_ALLOC_HUGE);
	memset(m->slot, -1, slots * sizeof(int32));
}

static void nodemap_grow(NodeMap *m, UnionFind *uf, Size *used);

/* The dense number of id, adding it (as a singleton set) if new. */
static int32
nodemap_get(NodeMap *m, UnionFind *uf, int64 id, Size *used)
{
	uint64		h = ls_fmix64((uint64) id) & m->mask;

	for (;;)
	{
		int32		s = m->slot[h];

		if (s < 0)
			break;
		if (m->keys[h] == id)
			return s;
		h = (h + 1) & m->mask;
	}
	if ((uint64) (m->n + 1) * 2 > m->mask + 1 || m->n == m->cap)
	{
		nodemap_grow(m, uf, used);
		return nodemap_get(m, uf, id, used);
	}
	m->keys[h] = id;
	m->slot[h] = m->n;
	m->ids[m->n] = id;
	uf->parent[m->n] = m->n;
	uf->size[m->n] = 1;
	return m->n++;
}

/* Double the table (rehashing) and the per-node arrays, within the limit. */
static void
nodemap_grow(NodeMap *m, UnionFind *uf, Size *used)
{
	uint64		slots = (m->mask + 1) * 2;
	int64	   *old_keys = m->keys;
	int32	   *old_slot = m->slot;
	uint64		old_slots = m->mask + 1;
	int32		old_cap = m->cap;

	if (m->cap >= INT32_MAX / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("lockstep_clusters takes at most %d nodes", INT32_MAX / 2)));
	/* charged as the new sizes: a total at most twice the final one */
	ls_memory_charge(used, slots * (sizeof(int64) + sizeof(int32)) +
					 (Size) old_cap * 2 * (sizeof(int64) + 2 * sizeof(int32)),
					 "lockstep_clusters");
	nodemap_init(m, slots);
	for (uint64 h = 0; h < old_slots; h++)
		if (old_slot[h] >= 0)
		{
			uint64		k = ls_fmix64((uint64) old_keys[h]) & m->mask;

			while (m->slot[k] >= 0)
				k = (k + 1) & m->mask;
			m->keys[k] = old_keys[h];
			m->slot[k] = old_slot[h];
		}
	pfree(old_keys);
	pfree(old_slot);
	m->cap = old_cap * 2;
	m->ids = repalloc_huge(m->ids, m->cap * sizeof(int64));
	uf_resize(uf, old_cap, m->cap);
}

/* A weak edge kept for the attachment step. */
typedef struct WeakEdge
{
	int32		a;
	int32		b;
	float8		w;
} WeakEdge;

static int64
int_column(HeapTuple tup, TupleDesc desc, int col, bool *isnull)
{
	Datum		d = SPI_getbinval(tup, desc, col, isnull);

	if (*isnull)
		return 0;
	return TupleDescAttr(desc, col - 1)->atttypid == INT8OID ?
		DatumGetInt64(d) : (int64) DatumGetInt32(d);
}

/*
 * lockstep_clusters(edges, core_threshold, min_size) returns
 * (node, cluster, core) for every node of the edge list.  cluster is the
 * smallest node id of the node's cluster, or NULL when the node is in no
 * cluster (its component is under min_size and it has no edge into a
 * core).  A NULL core_threshold makes every edge strong.
 */
Datum
lockstep_clusters(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		weighted = !PG_ARGISNULL(1);
	double		core_threshold = weighted ? PG_GETARG_FLOAT8(1) : 0;
	int32		min_size;
	MemoryContext work;
	MemoryContext old;
	Size		used = 0;
	NodeMap		map = {0};
	UnionFind	uf = {0};
	WeakEdge   *weak = NULL;
	int64		nweak = 0,
				weak_cap = 0;
	int32	   *core;
	Attachment *attach;
	Portal		portal;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the edges query and min_size of lockstep_clusters must not be NULL")));
	min_size = PG_GETARG_INT32(2);
	check_min_size(min_size);
	if (isnan(core_threshold))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("core_threshold must be a number")));

	InitMaterializedSRF(fcinfo, 0);
	work = AllocSetContextCreate(CurrentMemoryContext, "lockstep_clusters",
								 ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(work);
	map.cap = 1024;
	map.ids = palloc(map.cap * sizeof(int64));
	uf_resize(&uf, 0, map.cap);
	nodemap_init(&map, 2048);

	portal = ls_query_open(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	for (;;)
	{
		TupleDesc	desc;
		Oid			wtype = InvalidOid;

		SPI_cursor_fetch(portal, true, 10000);
		if (SPI_processed == 0)
			break;
		desc = SPI_tuptable->tupdesc;
		if (desc->natts == 3)
			wtype = TupleDescAttr(desc, 2)->atttypid;
		if (desc->natts < 2 || desc->natts > 3 ||
			(TupleDescAttr(desc, 0)->atttypid != INT8OID && TupleDescAttr(desc, 0)->atttypid != INT4OID) ||
			(TupleDescAttr(desc, 1)->atttypid != INT8OID && TupleDescAttr(desc, 1)->atttypid != INT4OID) ||
			(desc->natts == 3 && wtype != FLOAT8OID && wtype != FLOAT4OID))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("the edges query must return source and target (bigint or integer) and optionally a weight (double precision or real)")));
		if (weighted && desc->natts != 3)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("a core_threshold needs a weight column"),
					 errhint("Return source, target, weight; or pass core_threshold => NULL.")));
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];
			bool		nulls,
						nullt,
						nullw = true;
			int64		s = int_column(tup, desc, 1, &nulls);
			int64		t = int_column(tup, desc, 2, &nullt);
			double		w = 0;
			int32		a,
						b;

			CHECK_FOR_INTERRUPTS();
			if (nulls || nullt)
				continue;		/* an edge to nowhere */
			if (desc->natts == 3)
			{
				Datum		d = SPI_getbinval(tup, desc, 3, &nullw);

				if (!nullw)
					w = wtype == FLOAT8OID ? DatumGetFloat8(d) : DatumGetFloat4(d);
				nullw = nullw || isnan(w);	/* a NaN weight is no weight */
			}
			MemoryContextSwitchTo(work);
			a = nodemap_get(&map, &uf, s, &used);
			b = nodemap_get(&map, &uf, t, &used);
			if (!weighted || (!nullw && w >= core_threshold))
				uf_union(&uf, a, b);
			else if (!nullw)
			{
				if (nweak == weak_cap)
				{
					ls_memory_charge(&used, Max(weak_cap, 1024) * sizeof(WeakEdge),
									 "lockstep_clusters");
					weak_cap = Max(weak_cap * 2, 1024);
					weak = nweak ? repalloc_huge(weak, weak_cap * sizeof(WeakEdge)) :
						palloc_extended(weak_cap * sizeof(WeakEdge), MCXT_ALLOC_HUGE);
				}
				weak[nweak].a = a;
				weak[nweak].b = b;
				weak[nweak].w = w;
				nweak++;
			}
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	SPI_finish();
	MemoryContextSwitchTo(work);

	core = find_cores(&uf, map.ids, map.n, min_size);
	attach = palloc_extended(Max(map.n, 1) * sizeof(Attachment), MCXT_ALLOC_HUGE);
	for (int32 x = 0; x < map.n; x++)
		attach[x].core = -1;
	for (int64 e = 0; e < nweak; e++)
	{
		int32		a = weak[e].a,
					b = weak[e].b;

		if ((e & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (core[a] < 0 && core[b] >= 0)
			offer_attachment(&attach[a], core[b], weak[e].w, map.ids);
		else if (core[b] < 0 && core[a] >= 0)
			offer_attachment(&attach[b], core[a], weak[e].w, map.ids);
	}

	MemoryContextSwitchTo(old);
	for (int32 x = 0; x < map.n; x++)
	{
		Datum		v[3];
		bool		nulls[3] = {false, false, false};
		int32		c = core[x] >= 0 ? core[x] : attach[x].core;

		v[0] = Int64GetDatum(map.ids[x]);
		v[1] = c >= 0 ? Int64GetDatum(map.ids[c]) : (Datum) 0;
		nulls[1] = c < 0;
		v[2] = BoolGetDatum(core[x] >= 0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	MemoryContextDelete(work);
	return (Datum) 0;
}

/*
 * fingerprint_clusters(query, threshold, core_threshold, min_size, bands,
 * rows, max_bucket, weights) returns (account_id, cluster, core,
 * similarity) for the accounts in a cluster.  similarity is an attached
 * account's similarity to the core member it attaches through (NULL for
 * cores).  weights are the channels' (as fingerprint_similarity's
 * three-argument form takes them): a pass that links on the work alone
 * gives the operator's channels 0.  Every argument but the query may be
 * NULL for its default (pairs.h; weights: ls_default_weights).
 */
Datum
fingerprint_clusters(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	LsPairIndex ix = {.caller = "fingerprint_clusters", .min_shared = LS_MIN_SHARED_KEYS,
	.split_mode = LS_SPLIT_NEIGHBOURS};
	MemoryContext work;
	MemoryContext old;
	double		threshold;
	double		core_threshold;
	int32		min_size;
	UnionFind	uf = {0};
	int32	   *core;
	int64		rechecks = 0,
				joined = 0,
				attached = 0;
	double		weights[LS_N_CHANNELS];
	instr_time	t0,
				t1,
				t2,
				t3;

	INSTR_TIME_SET_CURRENT(t0);
	threshold = ls_query_threshold_args(fcinfo, ix.caller);
	/* the eighth argument since 0.6.0 */
	ls_weights_arg_or_default(fcinfo, 7, weights);
	ix.key_channels = ls_lsh_key_channels(weights);
	core_threshold = ls_float_arg(fcinfo, 2, LS_CLUSTER_CORE_THRESHOLD);
	min_size = ls_int_arg(fcinfo, 3, LS_CLUSTER_MIN_SIZE);
	ls_check_threshold("core_threshold", core_threshold);
	if (core_threshold < threshold)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("core_threshold must not be below threshold"),
				 errdetail("core_threshold was %g, threshold %g.", core_threshold, threshold)));
	check_min_size(min_size);

	InitMaterializedSRF(fcinfo, 0);
	work = AllocSetContextCreate(CurrentMemoryContext, "fingerprint_clusters",
								 ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(work);
	ls_pairs_build(&ix, fcinfo, text_to_cstring(PG_GETARG_TEXT_PP(0)),
				   ls_int_arg(fcinfo, 4, LS_LSH_BANDS), ls_int_arg(fcinfo, 5, LS_LSH_ROWS),
				   ls_int_arg(fcinfo, 6, LS_CLUSTER_MAX_BUCKET));
	ls_memory_charge(&ix.used, ix.n * (2 * sizeof(int32) + 3 * sizeof(int64) + sizeof(double)),
					 ix.caller);
	uf_resize(&uf, 0, Max(ix.n, 1));
	for (int32 x = 0; x < ix.n; x++)
	{
		uf.parent[x] = x;
		uf.size[x] = 1;
	}

	INSTR_TIME_SET_CURRENT(t1);

	/*
	 * 1. cores: recheck a candidate only if it would join two components,
	 * and scan over the runs of entries already in one (pairs.c)
	 */
	ls_pairs_track_runs(&ix, uf_component, &uf);
	for (int32 i = 0; i < ix.n; i++)
	{
		int			ncand;

		CHECK_FOR_INTERRUPTS();
		ncand = ls_pairs_candidates(&ix, i, true);
		for (int c = 0; c < ncand; c++)
		{
			int32		j = ix.cand[c];
			double		s;

			if (uf_find(&uf, i) == uf_find(&uf, j))
				continue;
			rechecks++;
			if (ls_prepared_at_least(&ix.fps[i], &ix.fps[j], weights,
									 core_threshold, &s))
			{
				uf_union(&uf, i, j);
				joined++;
			}
		}
		if (uf.size[uf_find(&uf, i)] > 1)
			ls_pairs_merge_runs(&ix, i);
	}
	ls_pairs_untrack_runs(&ix);
	core = find_cores(&uf, ix.ids, ix.n, min_size);
	INSTR_TIME_SET_CURRENT(t2);

	/*
	 * 2. attach the others to the core of their most similar candidate,
	 * which is a core member: the scans skip the others
	 */
	ls_pairs_restart(&ix);
	ls_pairs_restrict(&ix, core);
	MemoryContextSwitchTo(old);
	for (int32 i = 0; i < ix.n; i++)
	{
		Attachment	best = {.core = -1, .w = 0};
		Datum		v[4];
		bool		nulls[4] = {false, false, false, false};

		CHECK_FOR_INTERRUPTS();
		if (core[i] < 0)
		{
			int			ncand = ls_pairs_candidates(&ix, i, false);

			for (int c = 0; c < ncand; c++)
			{
				int32		j = ix.cand[c];
				double		s;

				if (core[j] < 0)
					continue;
				rechecks++;
				if (ls_prepared_at_least(&ix.fps[i], &ix.fps[j], weights,
										 threshold, &s))
					offer_attachment(&best, core[j], s, ix.ids);
			}
			if (best.core < 0)
				continue;
			attached++;
		}
		v[0] = Int64GetDatum(ix.ids[i]);
		v[1] = Int64GetDatum(ix.ids[core[i] >= 0 ? core[i] : best.core]);
		v[2] = BoolGetDatum(core[i] >= 0);
		v[3] = Float8GetDatum(best.w);
		nulls[3] = core[i] >= 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}

	INSTR_TIME_SET_CURRENT(t3);
	INSTR_TIME_SUBTRACT(t3, t2);
	INSTR_TIME_SUBTRACT(t2, t1);
	INSTR_TIME_SUBTRACT(t1, t0);
	ereport(DEBUG1,
			(errmsg("fingerprint_clusters: %d fingerprints, " INT64_FORMAT " candidate pairs, "
					INT64_FORMAT " rechecked, " INT64_FORMAT " joins at or above %g, "
					INT64_FORMAT " accounts attached at or above %g, %zu MB of lockstep.pairs_memory_limit",
					ix.n, ix.candidates, rechecks, joined, core_threshold, attached, threshold,
					ix.used >> 20)));
	ereport(DEBUG2,
			(errmsg("fingerprint_clusters: %.2f s reading and keying, %.2f s cores, %.2f s attaching",
					INSTR_TIME_GET_DOUBLE(t1), INSTR_TIME_GET_DOUBLE(t2), INSTR_TIME_GET_DOUBLE(t3))));
	MemoryContextDelete(work);
	return (Datum) 0;
}

/* A member of an earlier clustering: its id and its cluster. */
typedef struct Member
{
	int64		id;
	int64		cluster;
} Member;

static int
member_cmp(const void *a, const void *b)
{
	int64		x = ((const Member *) a)->id;
	int64		y = ((const Member *) b)->id;

	return (x > y) - (x < y);
}

/* The members bigint[] and clusters bigint[] arguments, sorted by id. */
static Member *
members_arg(FunctionCallInfo fcinfo, int *n)
{
	Datum	   *ids,
			   *clusters;
	bool	   *id_nulls,
			   *cluster_nulls;
	int			nids,
				nclusters;
	Member	   *m;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the members and clusters of fingerprint_attach must not be NULL")));
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &ids, &id_nulls, &nids);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &clusters, &cluster_nulls, &nclusters);
	if (nids != nclusters)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("members and clusters must have the same length"),
				 errdetail("There are %d members and %d clusters.", nids, nclusters)));
	m = palloc_extended(Max(nids, 1) * sizeof(Member), MCXT_ALLOC_HUGE);
	for (int i = 0; i < nids; i++)
	{
		if (id_nulls[i] || cluster_nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("members and clusters must not contain NULLs")));
		m[i].id = DatumGetInt64(ids[i]);
		m[i].cluster = DatumGetInt64(clusters[i]);
	}
	qsort(m, nids, sizeof(Member), member_cmp);
	for (int i = 1; i < nids; i++)
		if (m[i].id == m[i - 1].id && m[i].cluster != m[i - 1].cluster)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("member " INT64_FORMAT " is in two clusters", m[i].id)));
	*n = nids;
	return m;
}

/*
 * fingerprint_attach(query, members, clusters, threshold, bands, rows,
 * max_bucket, weights) returns (account_id, cluster, similarity) for each
 * account of the query that is not a member and whose most similar member
 * among its LSH candidates reaches threshold: the attachment step of
 * fingerprint_clusters against an earlier clustering's members (members[i]
 * in clusters[i]; give the core members), so that accounts new since it
 * join its clusters without clustering again.  Ties go to the smaller
 * cluster.  The members' own rows are not returned; a member missing from
 * the query is no candidate.
 */
Datum
fingerprint_attach(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	LsPairIndex ix = {.caller = "fingerprint_attach", .min_shared = LS_MIN_SHARED_KEYS,
	.split_mode = LS_SPLIT_NEIGHBOURS, .lazy = true};
	MemoryContext work;
	MemoryContext old;
	double		threshold;
	double		weights[LS_N_CHANNELS];
	Member	   *members;
	int			nmembers;
	int32	   *kept;
	int64	   *cluster_of;
	int64		rechecks = 0,
				attached = 0;
	int32		prepared = 0;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the query of fingerprint_attach must not be NULL")));
	threshold = ls_float_arg(fcinfo, 3, ls_similarity_threshold);
	ls_check_threshold("threshold", threshold);
	ls_weights_arg_or_default(fcinfo, 7, weights);
	ix.key_channels = ls_lsh_key_channels(weights);

	InitMaterializedSRF(fcinfo, 0);
	work = AllocSetContextCreate(CurrentMemoryContext, "fingerprint_attach",
								 ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(work);
	members = members_arg(fcinfo, &nmembers);
	ls_memory_charge(&ix.used, (Size) nmembers * sizeof(Member), ix.caller);
	ls_pairs_build(&ix, fcinfo, text_to_cstring(PG_GETARG_TEXT_PP(0)),
				   ls_int_arg(fcinfo, 4, LS_LSH_BANDS), ls_int_arg(fcinfo, 5, LS_LSH_ROWS),
				   ls_int_arg(fcinfo, 6, LS_CLUSTER_MAX_BUCKET));
	ls_memory_charge(&ix.used, ix.n * (sizeof(int32) + sizeof(int64)), ix.caller);
	kept = palloc_extended(Max(ix.n, 1) * sizeof(int32), MCXT_ALLOC_HUGE);
	cluster_of = palloc_extended(Max(ix.n, 1) * sizeof(int64), MCXT_ALLOC_HUGE);
	for (int32 x = 0; x < ix.n; x++)
	{
		Member		key = {.id = ix.ids[x]};
		Member	   *m = bsearch(&key, members, nmembers, sizeof(Member), member_cmp);

		kept[x] = m ? x : -1;
		cluster_of[x] = m ? m->cluster : 0;
	}
	/* the candidates of an account are members only: the scans skip the others */
	ls_pairs_restrict(&ix, kept);
	MemoryContextSwitchTo(old);
	for (int32 i = 0; i < ix.n; i++)
	{
		/* the member it joins through; ties: the smaller cluster */
		Attachment	best = {.core = -1, .w = 0};
		int			ncand;
		Datum		v[3];
		bool		nulls[3] = {false, false, false};

		CHECK_FOR_INTERRUPTS();
		if (kept[i] >= 0)
			continue;
		ncand = ls_pairs_candidates(&ix, i, false);
		for (int c = 0; c < ncand; c++)
		{
			int32		j = ix.cand[c];
			double		s;

			if (kept[j] < 0)
				continue;
			rechecks++;
			if (ls_prepared_at_least(ls_pairs_fp(&ix, i), ls_pairs_fp(&ix, j), weights, threshold, &s))
				offer_attachment(&best, j, s, cluster_of);
		}
		if (best.core < 0)
			continue;
		attached++;
		v[0] = Int64GetDatum(ix.ids[i]);
		v[1] = Int64GetDatum(cluster_of[best.core]);
		v[2] = Float8GetDatum(best.w);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}

	for (int32 x = 0; x < ix.n; x++)
		prepared += ix.ready[x];
	ereport(DEBUG1,
			(errmsg("fingerprint_attach: %d fingerprints (%d prepared), %d members, " INT64_FORMAT " candidate pairs, "
					INT64_FORMAT " rechecked, " INT64_FORMAT " accounts attached at or above %g, "
					"%zu MB of lockstep.pairs_memory_limit",
					ix.n, prepared, nmembers, ix.candidates, rechecks, attached, threshold, ix.used >> 20)));
	MemoryContextDelete(work);
	return (Datum) 0;
}

/*
 * lockstep_cluster_defaults(): the defaults of fingerprint_clusters' NULL
 * arguments as jsonb, so that a pipeline's settings read them from their
 * one home (pairs.h) instead of repeating them.
 */
Datum
lockstep_cluster_defaults(PG_FUNCTION_ARGS)
{
	char	   *json = psprintf("{\"threshold\": %g, \"core_threshold\": %g, \"min_size\": %d, "
								"\"bands\": %d, \"rows\": %d, \"max_bucket\": %d}",
								LS_DEFAULT_THRESHOLD, LS_CLUSTER_CORE_THRESHOLD,
								LS_CLUSTER_MIN_SIZE, LS_LSH_BANDS, LS_LSH_ROWS,
								LS_CLUSTER_MAX_BUCKET);

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

/*
 * lockstep_cluster_limits(): the range fingerprint_clusters accepts for
 * each of its arguments, as jsonb ({"min", "max", "whole"} per argument,
 * and the largest bands x rows), so that a pipeline's settings are checked
 * against the limits this code enforces (lsh.h, ls_check_threshold, the
 * int arguments) instead of a copy of them.
 */
Datum
lockstep_cluster_limits(PG_FUNCTION_ARGS)
{
	char	   *json = psprintf("{\"threshold\": {\"min\": 0, \"max\": 1, \"whole\": false}, "
								"\"core_threshold\": {\"min\": 0, \"max\": 1, \"whole\": false}, "
								"\"min_size\": {\"min\": 1, \"max\": %d, \"whole\": true}, "
								"\"bands\": {\"min\": 1, \"max\": %d, \"whole\": true}, "
								"\"rows\": {\"min\": 1, \"max\": %d, \"whole\": true}, "
								"\"max_bucket\": {\"min\": 1, \"max\": %d, \"whole\": true}, "
								"\"bands_x_rows\": {\"max\": %d}}",
								PG_INT32_MAX, LS_LSH_MAX_BANDS, LS_LSH_MAX_ROWS, PG_INT32_MAX,
								LS_LSH_MAX_SIGNATURE);

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}
