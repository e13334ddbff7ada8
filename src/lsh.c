/*
 * lsh.c
 *	  Locality-sensitive hashing: banded MinHash keys of a fingerprint, so
 *	  that similar accounts share a key and a similarity join is a hash join
 *	  on keys followed by an exact recheck.  Pure code: no fmgr.
 *
 * Keys come from the four channels that tell accounts apart: content
 * (P-MinHash over the recurring scaffold keys weighted by traffic share,
 * Moulton & Jiang 2018), co-activity, networks and payment instruments
 * (MinHash over their bottom-k samples).  For each channel, `bands` bands
 * of `rows` MinHash values each give one key a band: two accounts whose
 * channel similarity is s share a given band with probability s^rows, and
 * at least one of the channel's bands with probability
 *	1 - (1 - s^rows)^bands
 * (the S-curve).  Intents, hour profile and model adoption are too
 * coarse to tell accounts apart and give no keys; they still count in the
 * exact recheck.
 */
#include "lsh.h"
#include "hashing.h"
#include "similarity.h"

#include <math.h>

enum
{
	LSH_CONTENT, LSH_COACTIVITY, LSH_IP, LSH_PAY
};

/* Validate bands and rows, with a clear error. */
void
ls_lsh_check(int bands, int rows)
{
	if (bands < 1 || bands > LS_LSH_MAX_BANDS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bands must be between 1 and %d", LS_LSH_MAX_BANDS),
				 errdetail("The value was %d.", bands)));
	if (rows < 1 || rows > LS_LSH_MAX_ROWS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rows must be between 1 and %d", LS_LSH_MAX_ROWS),
				 errdetail("The value was %d.", rows)));
	if (bands * rows > LS_LSH_MAX_SIGNATURE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bands x rows must be at most %d", LS_LSH_MAX_SIGNATURE),
				 errdetail("%d bands of %d rows need a signature of %d values.",
						   bands, rows, bands * rows)));
}

/* The seed of MinHash function i of a channel. */
static inline uint64
seed_of(int channel, int i)
{
	return ls_fmix64(((uint64) channel << 32 | (uint64) i) + UINT64CONST(0x2545f4914f6cdd1d));
}

/* Fold one band's MinHash values into its key. */
static inline uint64
band_key(int channel, int band, const uint64 *mins, int rows)
{
	uint64		h = ((uint64) channel << 8 | (uint64) band) * UINT64CONST(0x9e3779b97f4a7c15);

	for (int r = 0; r < rows; r++)
		h = ls_hash_extend(h, mins[r]);
	return ls_fmix64(h);
}

/*
 * The element of xs[0..n) that MinHash function i of a channel picks: the
 * one with the least hash; or, with weights, the least exponential clock
 * -ln(u) / w (P-MinHash), so that heavier elements win more often.
 */
static inline uint64
minhash_pick(int channel, int i, const uint64 *xs, const double *w, int n)
{
	uint64		seed = seed_of(channel, i);
	uint64		arg = 0;

	if (w == NULL)
	{
		uint64		best = PG_UINT64_MAX;

		for (int j = 0; j < n; j++)
		{
			uint64		h = ls_fmix64(xs[j] ^ seed);

			if (h < best)
			{
				best = h;
				arg = xs[j];
			}
		}
	}
	else
	{
		double		best = HUGE_VAL;

		for (int j = 0; j < n; j++)
		{
			/* u in (0, 1); -ln(u) / w is exponential with rate w */
			double		u = ((ls_fmix64(xs[j] ^ seed) >> 11) + 0.5) / 9007199254740992.0;
			double		v = -log(u) / w[j];

			if (v < best)
			{
				best = v;
				arg = xs[j];
			}
		}
	}
	return arg;
}

/* The band keys of a channel's (weighted) set xs[0..n), n > 0. */
static int
band_keys(int channel, const uint64 *xs, const double *w, int n, int bands, int rows, uint64 *out)
{
	uint64		mins[LS_LSH_MAX_ROWS];

	for (int b = 0; b < bands; b++)
	{
		for (int r = 0; r < rows; r++)
			mins[r] = minhash_pick(channel, b * rows + r, xs, w, n);
		out[b] = band_key(channel, b, mins, rows);
	}
	return bands;
}

/* Keys of a channel given as a plain sample of 32-bit hashes. */
static int
sample_keys(int channel, const uint32 *sample, int n, int bands, int rows, uint64 *out)
{
	uint64		xs[LS_K_ACT];

	Assert(n <= LS_K_ACT);
	if (n == 0)
		return 0;
	if (n == 1)
	{
		uint64		mins[LS_LSH_MAX_ROWS];

		/* every MinHash of a one-element set is that element: one key says it all */
		for (int r = 0; r < rows; r++)
			mins[r] = sample[0];
		out[0] = band_key(channel, 0, mins, rows);
		return 1;
	}
	for (int i = 0; i < n; i++)
		xs[i] = sample[i];
	return band_keys(channel, xs, NULL, n, bands, rows, out);
}

/* Content keys: P-MinHash over the recurring keys, weighted by count. */
static int
content_keys(const Fingerprint *fp, int bands, int rows, uint64 *out)
{
	const LsKeyCount *keys = LS_FP_KEYS(fp);
	double		w[LS_MAX_KEYS];
	uint64		k[LS_MAX_KEYS];
	int			n = 0;

	for (int i = 0; i < fp->n_keys; i++)
		if (ls_key_recurs(&keys[i]))
		{
			k[n] = keys[i].key;
			w[n++] = (double) keys[i].count;
		}
	if (n == 0)
		return 0;
	return band_keys(LSH_CONTENT, k, w, n, bands, rows, out);
}

/*
 * All LSH keys of fp into keys[] (room for LS_LSH_CHANNELS x bands);
 * returns how many.  Empty channels give none.
 */
int
ls_lsh_keys(const Fingerprint *fp, int bands, int rows, uint64 *keys)
{
	return ls_lsh_keys_of(fp, bands, rows, LS_LSH_KEY_ALL, keys);
}

/* The same, of the channels in the mask channels (LS_LSH_KEY_*) only. */
int
ls_lsh_keys_of(const Fingerprint *fp, int bands, int rows, int channels, uint64 *keys)
{
	int			n = 0;

	if (channels & LS_LSH_KEY_CONTENT)
		n += content_keys(fp, bands, rows, keys + n);
	if (channels & LS_LSH_KEY_COACTIVITY)
		n += sample_keys(LSH_COACTIVITY, fp->act, fp->n_act, bands, rows, keys + n);
	if (channels & LS_LSH_KEY_NETWORKS)
		n += sample_keys(LSH_IP, fp->ip, fp->n_ip, bands, rows, keys + n);
	if (channels & LS_LSH_KEY_PAYMENT)
		n += sample_keys(LSH_PAY, fp->pay, fp->n_pay, bands, rows, keys + n);
	return n;
}

/*
 * The channels whose keys are leads under weights: those the weights
 * count.  A search that leaves the operator's channels out (the work
 * alone) would otherwise recheck every pair that shares an address, a
 * card or working hours, and find it no more alike for that.  Weights
 * that count no keyed channel take every key, as no weights do.
 */
int
ls_lsh_key_channels(const double *weights)
{
	int			channels = 0;

	if (weights[LS_CH_CONTENT] > 0)
		channels |= LS_LSH_KEY_CONTENT;
	if (weights[LS_CH_COACTIVITY] > 0)
		channels |= LS_LSH_KEY_COACTIVITY;
	if (weights[LS_CH_INFRA] > 0)
		channels |= LS_LSH_KEY_NETWORKS | LS_LSH_KEY_PAYMENT;
	return channels ? channels : LS_LSH_KEY_ALL;
}
