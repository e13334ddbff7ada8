/*
 * similarity.c
 *	  Channel similarities of two fingerprints and their weighted
 *	  combination.  Pure code: no fmgr.
 *
 * Every channel similarity is in [0, 1], symmetric, and 1 for identical
 * fingerprints.  A channel that is empty on both sides (no such column,
 * or no such behaviour) is "undefined" (LS_UNDEFINED) and left out of the
 * combination; a channel empty on one side only scores 0.
 *
 * Why common behaviour does not make strangers similar:
 *	- content compares only recurring scaffold keys (count >= 2 and above
 *	  the Misra-Gries error bound), weighted by their share of the
 *	  account's traffic; prompts under LS_MIN_TOKENS tokens ("continue",
 *	  "thanks") give no keys at all, and one-off prompts never recur;
 *	- the user agent is a small part (0.15) of the infrastructure channel,
 *	  whose networks and payment instruments carry the rest;
 *	- the hour-of-week profile, which whole time zones share, has the
 *	  smallest default weight (0.05).
 */
#include "lockstep.h"

#include <math.h>

#include "datatype/timestamp.h"

const char *const ls_channel_names[LS_N_CHANNELS] = {
	"content", "intents", "infrastructure", "coactivity", "hours", "models"
};

const double ls_default_weights[LS_N_CHANNELS] = {0.35, 0.10, 0.20, 0.20, 0.05, 0.10};

/* Infrastructure sub-weights: networks, payment instruments, user agents. */
#define W_IP	0.45
#define W_PAY	0.40
#define W_UA	0.15

/* Model first-seen times this far apart (in usecs) score exp(-1). */
#define MODEL_TAU	((double) USECS_PER_DAY)

/* Is key i of fp a recurring scaffold key (count >= 2 and above the bound)? */
static inline bool
key_recurs(const Fingerprint *fp, const LsKeyCount *k, uint64 bound)
{
	return k->count >= 2 && k->count > bound;
}

/* The Misra-Gries error bound of a fingerprint's scaffold counters. */
uint64
ls_key_bound(const Fingerprint *fp)
{
	const LsKeyCount *keys = LS_FP_KEYS(fp);
	uint64		kept = 0;

	for (int i = 0; i < fp->n_keys; i++)
		kept += keys[i].count;
	return (fp->key_stream - kept) / (LS_MAX_KEYS + 1);
}

/* Content: weighted Jaccard of the recurring scaffold keys' traffic shares. */
double
ls_sim_content(const Fingerprint *a, const Fingerprint *b)
{
	const LsKeyCount *ka = LS_FP_KEYS(a);
	const LsKeyCount *kb = LS_FP_KEYS(b);
	uint64		ba = ls_key_bound(a);
	uint64		bb = ls_key_bound(b);
	double		num = 0,
				den = 0;
	int			i = 0,
				j = 0;

	while (i < a->n_keys || j < b->n_keys)
	{
		double		wa = 0,
					wb = 0;

		if (j >= b->n_keys || (i < a->n_keys && ka[i].key < kb[j].key))
		{
			if (key_recurs(a, &ka[i], ba))
				wa = (double) ka[i].count / a->key_stream;
			i++;
		}
		else if (i >= a->n_keys || kb[j].key < ka[i].key)
		{
			if (key_recurs(b, &kb[j], bb))
				wb = (double) kb[j].count / b->key_stream;
			j++;
		}
		else
		{
			if (key_recurs(a, &ka[i], ba))
				wa = (double) ka[i].count / a->key_stream;
			if (key_recurs(b, &kb[j], bb))
				wb = (double) kb[j].count / b->key_stream;
			i++;
			j++;
		}
		num += Min(wa, wb);
		den += Max(wa, wb);
	}
	return den > 0 ? num / den : LS_UNDEFINED;
}

/* Intents: weighted Jaccard of the per-request intent rates. */
double
ls_sim_intents(const Fingerprint *a, const Fingerprint *b)
{
	double		num = 0,
				den = 0;

	for (int i = 0; i < LS_N_INTENTS; i++)
	{
		double		ra = a->n_prompts ? (double) a->intents[i] / a->n_prompts : 0;
		double		rb = b->n_prompts ? (double) b->intents[i] / b->n_prompts : 0;

		num += Min(ra, rb);
		den += Max(ra, rb);
	}
	return den > 0 ? num / den : LS_UNDEFINED;
}

/*
 * Jaccard estimate of two bottom-k sketches: among the k smallest hashes
 * of the union, the fraction present in both (Broder; Cohen & Kaplan).
 * Exact while both sets are smaller than k.  LS_UNDEFINED if both empty.
 */
static double
ls_bottomk_jaccard(const uint32 *a, int na, const uint32 *b, int nb, int k)
{
	int			i = 0,
				j = 0,
				seen = 0,
				both = 0;

	while (seen < k && (i < na || j < nb))
	{
		if (j >= nb || (i < na && a[i] < b[j]))
			i++;
		else if (i >= na || b[j] < a[i])
			j++;
		else
		{
			both++;
			i++;
			j++;
		}
		seen++;
	}
	return seen ? (double) both / seen : LS_UNDEFINED;
}

/* Infrastructure: networks, payment instruments and user agents. */
double
ls_sim_infra(const Fingerprint *a, const Fingerprint *b)
{
	double		parts[3] = {
		ls_bottomk_jaccard(a->ip, a->n_ip, b->ip, b->n_ip, LS_K_IP),
		ls_bottomk_jaccard(a->pay, a->n_pay, b->pay, b->n_pay, LS_K_PAY),
		ls_bottomk_jaccard(a->ua, a->n_ua, b->ua, b->n_ua, LS_K_UA)
	};
	static const double w[3] = {W_IP, W_PAY, W_UA};
	double		num = 0,
				den = 0;

	for (int i = 0; i < 3; i++)
		if (parts[i] != LS_UNDEFINED)
		{
			num += w[i] * parts[i];
			den += w[i];
		}
	return den > 0 ? num / den : LS_UNDEFINED;
}

/* Co-activity: Jaccard of the sets of active 15-minute buckets. */
double
ls_sim_coactivity(const Fingerprint *a, const Fingerprint *b)
{
	return ls_bottomk_jaccard(a->act, a->n_act, b->act, b->n_act, LS_K_ACT);
}

/*
 * Hour-of-week profile: cosine of the two histograms.  Integer arithmetic
 * while no bin reaches 2^24 (sums of 168 products then stay below 2^63),
 * which the compiler vectorizes; doubles otherwise.
 */
double
ls_sim_hours(const Fingerprint *a, const Fingerprint *b)
{
	uint32		amax = 0,
				bmax = 0;

	if (a->n_timed == 0 && b->n_timed == 0)
		return LS_UNDEFINED;
	if (a->n_timed == 0 || b->n_timed == 0)
		return 0;
	for (int i = 0; i < LS_HOURS_OF_WEEK; i++)
	{
		amax |= a->how[i];
		bmax |= b->how[i];
	}
	if (amax < (1u << 24) && bmax < (1u << 24))
	{
		uint64		dot = 0,
					na = 0,
					nb = 0;

		for (int i = 0; i < LS_HOURS_OF_WEEK; i++)
		{
			dot += (uint64) a->how[i] * b->how[i];
			na += (uint64) a->how[i] * a->how[i];
			nb += (uint64) b->how[i] * b->how[i];
		}
		return Min(1.0, (double) dot / sqrt((double) na * (double) nb));
	}
	else
	{
		double		dot = 0,
					na = 0,
					nb = 0;

		for (int i = 0; i < LS_HOURS_OF_WEEK; i++)
		{
			dot += (double) a->how[i] * b->how[i];
			na += (double) a->how[i] * a->how[i];
			nb += (double) b->how[i] * b->how[i];
		}
		return Min(1.0, dot / sqrt(na * nb));
	}
}

/*
 * Model adoption: over the union of models, a model both use scores
 * exp(-|difference of first-seen times| / 1 day) (1 when neither time is
 * known), a model only one uses scores 0; the mean.
 */
double
ls_sim_models(const Fingerprint *a, const Fingerprint *b)
{
	const LsModel *ma = LS_FP_MODELS(a);
	const LsModel *mb = LS_FP_MODELS(b);
	double		sum = 0;
	int			n = 0,
				i = 0,
				j = 0;

	while (i < a->n_models || j < b->n_models)
	{
		n++;
		if (j >= b->n_models || (i < a->n_models && ma[i].hash < mb[j].hash))
			i++;
		else if (i >= a->n_models || mb[j].hash < ma[i].hash)
			j++;
		else
		{
			if (ma[i].first_seen == LS_NO_TIME && mb[j].first_seen == LS_NO_TIME)
				sum += 1;
			else if (ma[i].first_seen != LS_NO_TIME && mb[j].first_seen != LS_NO_TIME)
				sum += exp(-fabs((double) ma[i].first_seen - (double) mb[j].first_seen) / MODEL_TAU);
			i++;
			j++;
		}
	}
	return n ? sum / n : LS_UNDEFINED;
}

/*
 * Channels in the order ls_similarity_at_least evaluates them: the
 * telling ones that sit in few cache lines first (intent counters, then
 * the adjacent bottom-k sketches), the 672-byte hour histogram last.
 */
static const LsChannel eval_order[LS_N_CHANNELS] = {
	LS_CH_INTENTS, LS_CH_COACTIVITY, LS_CH_INFRA, LS_CH_CONTENT, LS_CH_MODELS, LS_CH_HOURS
};

/* One channel's similarity. */
static double
channel_sim(const Fingerprint *a, const Fingerprint *b, LsChannel c)
{
	switch (c)
	{
		case LS_CH_CONTENT:
			return ls_sim_content(a, b);
		case LS_CH_INTENTS:
			return ls_sim_intents(a, b);
		case LS_CH_INFRA:
			return ls_sim_infra(a, b);
		case LS_CH_COACTIVITY:
			return ls_sim_coactivity(a, b);
		case LS_CH_HOURS:
			return ls_sim_hours(a, b);
		case LS_CH_MODELS:
			return ls_sim_models(a, b);
		default:
			elog(ERROR, "unknown channel %d", (int) c);
	}
	return 0;					/* keep the compiler quiet */
}

/* All channel similarities of a pair. */
void
ls_channel_sims(const Fingerprint *a, const Fingerprint *b, double *sims)
{
	for (int c = 0; c < LS_N_CHANNELS; c++)
		sims[c] = channel_sim(a, b, c);
}

/*
 * Is the similarity of a and b at least threshold?  If so, *sim gets it.
 * Stops as soon as the channels left cannot lift it to the threshold: with
 * num / den the weighted mean so far and R the weight of the channels
 * left, no outcome of theirs beats (num + R) / (den + R), since num <= den.
 * The value, when computed, is exactly ls_similarity's.
 */
bool
ls_similarity_at_least(const Fingerprint *a, const Fingerprint *b,
					   const double *weights, double threshold, double *sim)
{
	double		num = 0,
				den = 0,
				left = 0;

	if (VARSIZE(a) == VARSIZE(b) && memcmp(a, b, VARSIZE(a)) == 0)
	{
		*sim = 1.0;
		return true;
	}
	for (int c = 0; c < LS_N_CHANNELS; c++)
		left += weights[c];
	for (int k = 0; k < LS_N_CHANNELS; k++)
	{
		LsChannel	c = eval_order[k];
		double		s;

		if (den + left > 0 && (num + left) / (den + left) < threshold)
			return false;
		left -= weights[c];
		s = channel_sim(a, b, c);
		if (s != LS_UNDEFINED)
		{
			num += weights[c] * s;
			den += weights[c];
		}
	}
	*sim = den > 0 ? Min(1.0, num / den) : 0.0;
	return *sim >= threshold;
}

/*
 * The weighted mean of the defined channel similarities.  Two fingerprints
 * with no defined channel at all carry no behaviour: 1 if they are the
 * same value, else 0.
 */
double
ls_similarity(const Fingerprint *a, const Fingerprint *b, const double *weights)
{
	double		sim;

	ls_similarity_at_least(a, b, weights, 0.0, &sim);
	return sim;
}
