/*
 * sketch.h
 *	  sketch.c: updates of the expanded state by one request, and merges.
 */
#ifndef LS_SKETCH_H
#define LS_SKETCH_H

#include "fingerprint.h"
#include "prompt.h"

extern void ls_state_init(LsState *st);
extern void ls_state_refresh(LsState *st);
extern void ls_state_prefetch(const LsState *st, int hour);
extern void ls_state_add_time(LsState *st, int64 ts, int hour);
extern void ls_state_add_prompt(LsState *st, const LsPromptInfo *info, int nbytes);
extern void ls_state_add_sketch(LsState *st, LsSketch which, uint64 hash);
extern void ls_state_add_model(LsState *st, const char *name, int len, int64 ts);
extern void ls_state_merge(LsState *dst, const LsState *src);
extern int	ls_cmp_key_count_desc(const void *a, const void *b);
extern double ls_kmv_distinct(const uint32 *arr, int n, int k);

#endif							/* LS_SKETCH_H */
