/*
 * refresh.h
 *	  refresh.c: the daily stage of a refresh in background workers.
 */
#ifndef LS_REFRESH_H
#define LS_REFRESH_H

/* lockstep.refresh_workers: background workers of a refresh's daily stage */
extern int	ls_refresh_workers;

#define LS_MAX_REFRESH_WORKERS	64

#endif							/* LS_REFRESH_H */
