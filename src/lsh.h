/*
 * lsh.h
 *	  Banded MinHash keys of the discriminative channels.  Pure code.
 */
#ifndef LS_LSH_H
#define LS_LSH_H

#include "fingerprint.h"

#define LS_LSH_CHANNELS		4	/* content, co-activity, networks, payment */
#define LS_LSH_MAX_BANDS	64
#define LS_LSH_MAX_ROWS		8
#define LS_LSH_MAX_SIGNATURE 128	/* bands x rows, per channel */
#define LS_LSH_BANDS		16	/* defaults, also those of the GIN opclass */
#define LS_LSH_ROWS			2
#define LS_LSH_MAX_KEYS		(LS_LSH_CHANNELS * LS_LSH_MAX_BANDS)

/* Which channels' keys ls_lsh_keys_of gives: a mask of these */
#define LS_LSH_KEY_CONTENT		0x1
#define LS_LSH_KEY_COACTIVITY	0x2
#define LS_LSH_KEY_NETWORKS		0x4
#define LS_LSH_KEY_PAYMENT		0x8
#define LS_LSH_KEY_ALL			0xF

extern void ls_lsh_check(int bands, int rows);
extern int	ls_lsh_keys(const Fingerprint *fp, int bands, int rows, uint64 *keys);
extern int	ls_lsh_keys_of(const Fingerprint *fp, int bands, int rows, int channels, uint64 *keys);
extern int	ls_lsh_key_channels(const double *weights);

#endif							/* LS_LSH_H */
