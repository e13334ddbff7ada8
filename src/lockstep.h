/*
 * lockstep.h
 *	  lockstep.c: the module's settings (GUCs), registered at load.
 */
#ifndef LS_LOCKSTEP_H
#define LS_LOCKSTEP_H

/* lockstep.similarity_threshold: the % operator's and the default threshold */
extern double ls_similarity_threshold;

/* lockstep.pairs_memory_limit, in kB: the join's and clustering's budget */
extern int	ls_pairs_memory_limit;

/* lockstep.refresh_workers: background workers of a refresh's daily stage */
extern int	ls_refresh_workers;

#define LS_MAX_REFRESH_WORKERS	64

#endif							/* LS_LOCKSTEP_H */
