/*
 * pairs.h
 *	  LSH candidate pairs of a query's fingerprints, in memory: the index
 *	  that the similarity join and clustering share.
 */
#ifndef LS_PAIRS_H
#define LS_PAIRS_H

#include "lsh.h"
#include "similarity.h"

#include "fmgr.h"

#define LS_MIN_SHARED_KEYS	4	/* keys a candidate pair must share */

/*
 * Defaults of the join's and clustering's NULL arguments, and so of a
 * pipeline's settings: their one home.  Clustering rechecks about one
 * pair per account where the join rechecks every candidate, so it can
 * afford a tenth of the join's bucket budget for the same recall.
 */
#define LS_DEFAULT_THRESHOLD		0.5	/* lockstep.similarity_threshold */
#define LS_JOIN_MAX_BUCKET			10000
#define LS_CLUSTER_MAX_BUCKET		1000
#define LS_CLUSTER_CORE_THRESHOLD	0.65
#define LS_CLUSTER_MIN_SIZE			10
typedef struct LsEntry LsEntry;

/* How a bucket over max_bucket is cut (pairs.c): for every pair, or for connectivity. */
typedef enum LsSplit
{
	LS_SPLIT_PARTS,				/* parts by a hash of (account, key) */
	LS_SPLIT_NEIGHBOURS			/* the max_bucket / 2 members either side */
} LsSplit;

/*
 * Account j as a candidate of the current account: four bytes, so that
 * the array of them stays in a core's cache longer.
 */
typedef struct LsSeen
{
	uint16		mark;			/* == the scan's stamp: j is already a candidate */
	uint16		hits;			/* keys j shares with the current account:
								 * at most LS_LSH_CHANNELS x
								 * LS_LSH_MAX_BANDS^2 (16,384), as a key can
								 * repeat only within a channel */
} LsSeen;

/* The component of an account, for ls_pairs_track_runs: any stable label. */
typedef int32 (*LsComponentFn) (void *arg, int32 account);

typedef struct LsPairIndex
{
	const char *caller;			/* names the SQL function in errors */
	Size		used;			/* bytes charged to lockstep.pairs_memory_limit */
	int			n;				/* fingerprints */
	int64	   *ids;
	LsPrepared *fps;			/* the fingerprints, prepared (see lazy) */
	bool		lazy;			/* set before ls_pairs_build: prepare each
								 * fingerprint when ls_pairs_fp first asks */
	const Fingerprint **raw;	/* lazy: the fingerprints as read */
	bool	   *ready;			/* lazy: fps[i] is prepared */
	int32	   *member;			/* account of each key entry, in bucket order */
	int64		nentries;
	int64	   *first;			/* CSR: positions of account i's entries */
	int64	   *pos;
	int64	   *bstart;			/* bucket of each sorted entry: [bstart, bend) */
	int64	   *bend;
	LsSeen	   *seen;			/* per account j, for the current account */
	uint16		stamp;			/* of the current scan; 0 is never one */
	int			min_shared;		/* candidates must share this many keys */
	int			key_channels;	/* LS_LSH_KEY_* whose keys are leads (0: all) */
	LsSplit		split_mode;
	int32	   *cand;			/* the candidates of the current account */
	int32	   *skip;			/* NULL, or per entry the distance to the next
								 * entry of an account ls_pairs_restrict kept */
	int32	   *runs;			/* NULL, or runs of entries whose accounts are
								 * known to be in one component: at a run's
								 * first entry minus its length, elsewhere
								 * the distance to an entry of it to the left */
	LsComponentFn component;	/* labels the runs are known by */
	void	   *component_arg;
	int64		candidates;		/* statistics for DEBUG1 */
	int64		split;			/* buckets split into parts */
	int64		largest;
} LsPairIndex;

extern void ls_pairs_build(LsPairIndex *ix, FunctionCallInfo fcinfo, const char *query,
						   int bands, int rows, int max_bucket);
extern void ls_pairs_prepare(LsPairIndex *ix, int32 i);

/* Fingerprint i, prepared (a lazy index prepares it now if not yet). */
static inline LsPrepared *
ls_pairs_fp(LsPairIndex *ix, int32 i)
{
	if (ix->lazy && !ix->ready[i])
		ls_pairs_prepare(ix, i);
	return &ix->fps[i];
}
extern int	ls_pairs_candidates(LsPairIndex *ix, int i, bool later_only);
extern void ls_pairs_restart(LsPairIndex *ix);
extern void ls_pairs_restrict(LsPairIndex *ix, const int32 *label);
extern void ls_pairs_track_runs(LsPairIndex *ix, LsComponentFn component, void *arg);
extern void ls_pairs_merge_runs(LsPairIndex *ix, int i);
extern void ls_pairs_untrack_runs(LsPairIndex *ix);

#endif							/* LS_PAIRS_H */
