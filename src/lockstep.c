/*
 * lockstep.c
 *	  Module entry point: the GUCs, their values and their registration.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include <limits.h>

#include "lockstep.h"
#include "pairs.h"

PG_MODULE_MAGIC;

double		ls_similarity_threshold = LS_DEFAULT_THRESHOLD;
int			ls_pairs_memory_limit = 4 * 1024 * 1024;
int			ls_refresh_workers = 2;

void		_PG_init(void);

/* Load time: register the GUCs. */
void
_PG_init(void)
{
	DefineCustomRealVariable("lockstep.similarity_threshold",
							 "Similarity at or above which fingerprint % fingerprint is true.",
							 "Also the default threshold of fingerprint_similar_pairs and fingerprint_clusters.",
							 &ls_similarity_threshold,
							 LS_DEFAULT_THRESHOLD, 0.0, 1.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("lockstep.pairs_memory_limit",
							"Memory the similarity join and clustering may use for fingerprints and keys.",
							"Past it the call stops with an error instead of exhausting memory.",
							&ls_pairs_memory_limit,
							4 * 1024 * 1024, 1024, MAX_KILOBYTES,
							PGC_USERSET, GUC_UNIT_KB, NULL, NULL, NULL);
	DefineCustomIntVariable("lockstep.refresh_workers",
							"Background workers that store a refresh's days side by side.",
							"0 stores them one by one in the refreshing session; a refresh inside a transaction block always does.",
							&ls_refresh_workers,
							2, 0, LS_MAX_REFRESH_WORKERS,
							PGC_USERSET, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("lockstep");
}
