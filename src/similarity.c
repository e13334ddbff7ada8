/*
 * similarity.c
 *	  Channel similarities of two fingerprints and their combination,
 *	  the geometric mean of two families (see is_operator).  Pure code:
 *	  no fmgr.
 *
 * Every channel similarity is in [0, 1], symmetric, and 1 for identical
 * fingerprints.  A channel that is empty on both sides (no such column,
 * or no such behaviour) is "undefined" (LS_UNDEFINED) and left out of its
 * family; a channel empty on one side only scores 0.  The calendar
 * channel is also undefined when the days cannot tell (see day_excess).
 *
 * Why common behaviour does not make strangers similar:
 *	- content compares only recurring scaffold keys (count >= 2 in the
 *	  account's bottom-k sample), weighted by their share of the
 *	  account's traffic; prompts under LS_MIN_TOKENS tokens ("continue",
 *	  "thanks") give no keys at all, and one-off prompts never recur;
 *	  two accounts that repeat no scaffold ask their own questions, and
 *	  share no work that shows (content 0);
 *	- the user agent is a small part (0.15) of the infrastructure channel,
 *	  whose networks and payment instruments carry the rest;
 *	- the hour-of-week profile, which whole time zones share and which
 *	  is cheap to change, has default weight 0;
 *	- co-activity and the calendar count only what two accounts share
 *	  beyond what their own rhythms predict;
 *	- what the accounts ask (the work) and who sends it (the operator)
 *	  must both agree.
 */
#include "similarity.h"
#include "sketch.h"

#include <math.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "datatype/timestamp.h"

const char *const ls_channel_names[LS_N_CHANNELS] = {
	"content", "intents", "infrastructure", "coactivity", "hours", "models", "calendar"
};

const double ls_default_weights[LS_N_CHANNELS] = {0.30, 0.10, 0.15, 0.15, 0.0, 0.10, 0.15};

/* Infrastructure sub-weights: networks, payment instruments, user agents. */
#define W_IP	0.45
#define W_PAY	0.40
#define W_UA	0.15
#define LS_CONTENT_MIN_KEYED 5	/* keyed prompts that would show a scaffold */
#define LS_NET_HALF	8.0		/* shared networks that count half (sim_networks) */

/* Model first-seen times this far apart (in usecs) score exp(-1). */
#define MODEL_TAU	((double) USECS_PER_DAY)

/*
 * Prepare fp for comparisons: here the cheap parts; the scaffold shares
 * when a comparison first needs them (most single comparisons of
 * strangers stop before), or at once with ls_prepare_all, which also
 * packs the hours for the many comparisons of a join.
 */
void
ls_prepare(const Fingerprint *fp, LsPrepared *p)
{
	const LsModel *models = LS_FP_MODELS(fp);

	p->fp = fp;
	p->digest = 0;
	p->content_ready = false;
	p->hours_ready = false;
	p->weekday_ready = false;
	for (int i = 0; i < LS_N_INTENTS; i++)
		p->intent_rate[i] = fp->n_prompts ? (double) fp->intents[i] / fp->n_prompts : 0;
	p->n_ip = fp->n_ip;
	p->n_ua = fp->n_ua;
	p->n_pay = fp->n_pay;
	p->n_act = fp->n_act;
	p->n_day = fp->n_day;
	memcpy(p->day, fp->day, sizeof(p->day));
	p->first_day = ls_floor_div(fp->first_seen, USECS_PER_DAY);
	p->last_day = ls_floor_div(fp->last_seen, USECS_PER_DAY);
	memcpy(p->ip, fp->ip, sizeof(p->ip));
	memcpy(p->ua, fp->ua, sizeof(p->ua));
	memcpy(p->pay, fp->pay, sizeof(p->pay));
	memcpy(p->act, fp->act, sizeof(p->act));
	p->n_models = fp->n_models;
	for (int i = 0; i < fp->n_models; i++)
	{
		p->models[i].hash = models[i].hash;
		p->models[i].first_seen = models[i].first_seen;
	}
	p->timed = fp->n_timed > 0;
}

/* The recurring scaffold keys and their traffic shares. */
static void
prepare_content(LsPrepared *p)
{
	const Fingerprint *fp = p->fp;
	const LsKeyCount *keys = LS_FP_KEYS(fp);

	p->n_rec = 0;
	p->horizon = ls_key_horizon(keys, fp->n_keys);
	for (int i = 0; i < fp->n_keys; i++)
		if (ls_key_recurs(&keys[i]))
		{
			p->rec[p->n_rec].key = keys[i].key;
			p->rec[p->n_rec].share = (double) keys[i].count / fp->key_stream;
			p->n_rec++;
		}
	p->content_ready = true;
}

/* The hours in bytes, if every bin fits one, and their squared norm. */
static void
prepare_hours(LsPrepared *p)
{
	const uint32 *hrs = p->fp->hours;
	uint32		max = 0;

	p->hours_norm2 = 0;
	for (int i = 0; i < LS_HOURS_OF_WEEK; i++)
	{
		max |= hrs[i];
		p->hours8[i] = (uint8) hrs[i];
		p->hours_norm2 += (uint64) hrs[i] * hrs[i];
	}
	memset(p->hours8 + LS_HOURS_OF_WEEK, 0, LS_HOURS8_LEN - LS_HOURS_OF_WEEK);
	p->hours_bytes = max < (1u << 8);
	p->hours_ready = true;
}

void
ls_prepare_all(const Fingerprint *fp, LsPrepared *p)
{
	ls_prepare(fp, p);
	prepare_content(p);
	prepare_hours(p);
}

/*
 * Content: weighted Jaccard of the recurring scaffold keys' traffic
 * shares, over the keys both samples speak for (up to the smaller
 * horizon): a ratio estimate of the weighted Jaccard of the whole key
 * sets from the part that both bottom-k samples cover.  A key that recurs
 * on neither side adds nothing.  Two accounts that each sent enough keyed
 * prompts (LS_CONTENT_MIN_KEYED) and repeat no scaffold ask their own
 * questions: they share no work that shows, and score 0, not undefined.
 * (Undefined, the work family would fall back on the intents and models,
 * which a third-party app's wrapper sets alike for all its users.)
 */
static double
sim_content(LsPrepared *a, LsPrepared *b)
{
	uint64		horizon;
	double		num = 0,
				den = 0;
	int			i = 0,
				j = 0;

	if (!a->content_ready)
		prepare_content(a);
	if (!b->content_ready)
		prepare_content(b);
	horizon = Min(a->horizon, b->horizon);

	while (i < a->n_rec || j < b->n_rec)
	{
		uint64		ka = i < a->n_rec ? a->rec[i].key : PG_UINT64_MAX;
		uint64		kb = j < b->n_rec ? b->rec[j].key : PG_UINT64_MAX;
		double		wa = ka <= kb ? a->rec[i].share : 0;
		double		wb = kb <= ka ? b->rec[j].share : 0;

		if (Min(ka, kb) > horizon)
			break;
		i += (ka <= kb);
		j += (kb <= ka);
		num += Min(wa, wb);
		den += Max(wa, wb);
	}
	if (den > 0)
		return num / den;
	if (a->fp->n_keyed >= LS_CONTENT_MIN_KEYED && b->fp->n_keyed >= LS_CONTENT_MIN_KEYED)
		return 0;
	return LS_UNDEFINED;
}

/* Intents: weighted Jaccard of the per-request intent rates. */
static double
sim_intents(LsPrepared *a, LsPrepared *b)
{
	double		num = 0,
				den = 0;

	for (int i = 0; i < LS_N_INTENTS; i++)
	{
		num += Min(a->intent_rate[i], b->intent_rate[i]);
		den += Max(a->intent_rate[i], b->intent_rate[i]);
	}
	return den > 0 ? num / den : LS_UNDEFINED;
}

/*
 * Hour-of-week profile: cosine of the two histograms.  Exact integer
 * arithmetic while no bin reaches 2^24 (sums of 168 products then stay
 * below 2^63); doubles otherwise.
 */
static double
hours_cosine(const uint32 *a, const uint32 *b)
{
	uint32		amax = 0,
				bmax = 0;

	for (int i = 0; i < LS_HOURS_OF_WEEK; i++)
	{
		amax |= a[i];
		bmax |= b[i];
	}
	if (amax < (1u << 24) && bmax < (1u << 24))
	{
		uint64		dot = 0,
					na = 0,
					nb = 0;

		for (int i = 0; i < LS_HOURS_OF_WEEK; i++)
		{
			dot += (uint64) a[i] * b[i];
			na += (uint64) a[i] * a[i];
			nb += (uint64) b[i] * b[i];
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
			dot += (double) a[i] * b[i];
			na += (double) a[i] * a[i];
			nb += (double) b[i] * b[i];
		}
		return Min(1.0, dot / sqrt(na * nb));
	}
}

/*
 * Dot product of two byte profiles (LS_HOURS8_LEN bytes, zero after the
 * 168 hours).  At most 168 * 255^2, so 32 bits hold it.  SSE2 (every
 * x86-64) multiplies and adds 16 of them in five instructions: widen to
 * 16 bits, then pmaddwd; the compiler does not find this by itself.
 */
static inline uint32
dot_bytes(const uint8 *a, const uint8 *b)
{
#ifdef __SSE2__
	__m128i		zero = _mm_setzero_si128();
	__m128i		acc = zero;

	for (int i = 0; i < LS_HOURS8_LEN; i += 16)
	{
		__m128i		va = _mm_loadu_si128((const __m128i *) (a + i));
		__m128i		vb = _mm_loadu_si128((const __m128i *) (b + i));

		acc = _mm_add_epi32(acc, _mm_madd_epi16(_mm_unpacklo_epi8(va, zero),
												_mm_unpacklo_epi8(vb, zero)));
		acc = _mm_add_epi32(acc, _mm_madd_epi16(_mm_unpackhi_epi8(va, zero),
												_mm_unpackhi_epi8(vb, zero)));
	}
	acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, _MM_SHUFFLE(1, 0, 3, 2)));
	acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, _MM_SHUFFLE(2, 3, 0, 1)));
	return (uint32) _mm_cvtsi128_si32(acc);
#else
	uint32		dot = 0;

	for (int i = 0; i < LS_HOURS_OF_WEEK; i++)
		dot += (uint32) a[i] * b[i];
	return dot;
#endif
}

/*
 * The hour-of-week channel.  Two fully prepared fingerprints whose bins
 * all fit a byte (the usual accounts) take the same integer cosine from
 * the byte copies and the norms worked out once: a quarter of the memory
 * and a third of the arithmetic.
 */
static double
sim_hours(LsPrepared *a, LsPrepared *b)
{
	if (!a->timed && !b->timed)
		return LS_UNDEFINED;
	if (!a->timed || !b->timed)
		return 0;
	if (a->hours_ready && b->hours_ready && a->hours_bytes && b->hours_bytes)
	{
		uint32		dot = dot_bytes(a->hours8, b->hours8);

		return Min(1.0, (double) dot / sqrt((double) a->hours_norm2 * (double) b->hours_norm2));
	}
	return hours_cosine(a->fp->hours, b->fp->hours);
}

/* The channels that need a prepared fingerprint, for two plain ones. */
#define PREPARED_PAIR(name, impl) \
double \
name(const Fingerprint *a, const Fingerprint *b) \
{ \
	LsPrepared	pa, \
				pb; \
\
	ls_prepare(a, &pa); \
	ls_prepare(b, &pb); \
	return impl(&pa, &pb); \
}

PREPARED_PAIR(ls_sim_content, sim_content)
PREPARED_PAIR(ls_sim_intents, sim_intents)
PREPARED_PAIR(ls_sim_hours, sim_hours)

/*
 * Jaccard estimate of two bottom-k sketches: among the k smallest hashes
 * of the union, the fraction present in both (Broder; Cohen & Kaplan).
 * While both sets are smaller than k each sketch holds its whole set, and
 * the Jaccard of the whole union is exact (it depends on no order of the
 * hashes, so blinded sketches give it too).  LS_UNDEFINED if both empty.
 * The merge is branch-free: which side advances is data, not a jump the
 * processor must guess.
 */
static double
ls_bottomk_jaccard(const uint32 *a, int na, const uint32 *b, int nb, int k)
{
	int			i = 0,
				j = 0,
				seen = 0,
				both = 0;

	if (na < k && nb < k)
		k = na + nb;

	while (seen < k && i < na && j < nb)
	{
		uint32		x = a[i],
					y = b[j];

		both += (x == y);
		i += (x <= y);
		j += (y <= x);
		seen++;
	}
	/* one side is done: the other's elements count as seen, not shared */
	seen = Min(k, seen + (na - i) + (nb - j));
	return seen ? (double) both / seen : LS_UNDEFINED;
}

/*
 * Networks: the Jaccard J of the two sets of /24s, or more if they share
 * many: an operator that spreads its accounts' requests over a pool of
 * proxy networks gives each pair many shared networks and a small J (two
 * accounts of 145 networks each from a pool of 1,000 share about 21, J =
 * 0.08), where two people on one carrier share one or two.  I shared
 * networks (estimated from J and the sizes) count I / (I + LS_NET_HALF).
 */
static double
sim_networks(LsPrepared *a, LsPrepared *b)
{
	double		j = ls_bottomk_jaccard(a->ip, a->n_ip, b->ip, b->n_ip, LS_K_IP);
	double		shared;

	if (j == LS_UNDEFINED || j <= 0)
		return j;
	shared = j / (1 + j) * (ls_kmv_distinct(a->ip, a->n_ip, LS_K_IP) +
							ls_kmv_distinct(b->ip, b->n_ip, LS_K_IP));
	return Max(j, shared / (shared + LS_NET_HALF));
}

/* Infrastructure: networks, payment instruments and user agents. */
static double
sim_infrastructure(LsPrepared *a, LsPrepared *b)
{
	double		parts[3] = {
		sim_networks(a, b),
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

/* The UTC weekday of a day number (days since 2000-01-01, a Saturday), Monday = 0. */
static inline int
weekday_of(int64 day)
{
	return (int) (((day + 5) % 7 + 7) % 7);
}

/* How many days of each weekday [lo, hi] holds. */
static void
weekdays_in(int64 lo, int64 hi, int64 *n)
{
	int64		len = hi - lo + 1;
	int			first = weekday_of(lo);

	for (int w = 0; w < 7; w++)
		n[w] = len / 7 + (((w - first + 7) % 7) < len % 7);
}

static void weekday_rates(LsPrepared *p, double days, double *q);

/*
 * What the calendar channels read of one account, worked out at its first
 * comparison rather than at each (a clustering compares an account
 * hundreds of times): the share of its requests on each weekday, from its
 * hours; the days of each weekday in its span; its active days' rate on
 * each weekday (weekday_rates); and the distinct days and active buckets
 * its sketches estimate.  Only for a timed account (its span is known).
 */
static void
prepare_weekday(LsPrepared *p)
{
	const uint32 *hrs = p->fp->hours;
	double		total = 0;

	if (p->weekday_ready)
		return;
	for (int w = 0; w < 7; w++)
	{
		uint64		sum = 0;

		for (int h = 0; h < 24; h++)
			sum += hrs[w * 24 + h];
		p->weekday[w] = (double) sum;
		total += (double) sum;
	}
	for (int w = 0; w < 7; w++)
		p->weekday[w] = total > 0 ? p->weekday[w] / total : 1.0 / 7;
	weekdays_in(p->first_day, p->last_day, p->span);
	p->days = ls_kmv_distinct(p->day, p->n_day, LS_K_DAY);
	p->buckets = ls_kmv_distinct(p->act, p->n_act, LS_K_ACT);
	p->weekday_ready = true;
	weekday_rates(p, p->days, p->day_rate);
}

/*
 * The chance that an account is active on a given day of weekday w: its
 * active days spread over the weekdays as its requests are, at most every
 * day of a weekday; what a full weekday cannot take goes to the others
 * (so an account active on every day of its span is active on every day
 * of each weekday).  The rates then add up to its active days, over the
 * weekdays of its span.
 */
static void
weekday_rates(LsPrepared *p, double days, double *q)
{
	const int64 *n = p->span;
	bool		full[7] = {0};
	double		left = days;

	for (int w = 0; w < 7; w++)
		q[w] = 0;
	/* water-filling: at most one more weekday fills up each round */
	for (int round = 0; round < 7 && left > 1e-9; round++)
	{
		double		share = 0;
		bool		filled = false;

		for (int w = 0; w < 7; w++)
			if (!full[w] && n[w] > 0)
				share += p->weekday[w];
		if (share <= 0)
			break;
		for (int w = 0; w < 7; w++)
			if (!full[w] && n[w] > 0 &&
				(q[w] * n[w] + left * p->weekday[w] / share) >= n[w])
			{
				left -= n[w] - q[w] * n[w];
				q[w] = 1;
				full[w] = filled = true;
			}
		if (!filled)
		{
			for (int w = 0; w < 7; w++)
				if (!full[w] && n[w] > 0)
					q[w] += left * p->weekday[w] / share / n[w];
			left = 0;
		}
	}
}

/*
 * A Jaccard J beyond its chance value, in [0, 1]: E = shared / (na + nb -
 * shared) for the expected shared count of two independent sets of na and
 * nb elements, and (J - E) / (1 - E), 0 when J <= E.  Undefined when E = 1:
 * chance alone explains any overlap.
 */
static double
beyond_chance(double j, double shared, double na, double nb)
{
	double		e = shared / Max(na + nb - shared, 1e-9);

	if (e >= 1 - 1e-9)
		return LS_UNDEFINED;
	if (j <= e)
		return 0;
	return (j - e) / (1 - e);
}

/*
 * Shared active days beyond chance, in [0, 1].  Two accounts that keep
 * their own days share as many as their rates predict: over the days
 * both were around (their overlapping spans), each day of weekday w is
 * active for each with its own rate for that weekday (weekday_rates), so
 * E[shared] = sum over the overlap's days of q_a(w) q_b(w).  Two office
 * teams that both work Monday to Friday share their weekdays by chance,
 * not by one operator.  The score is the Jaccard J of the day sets above
 * its expectation E under independence, scaled to [0, 1]:
 * (J - E) / (1 - E), 0 when J <= E.  Accounts active on every day their
 * rhythm allows have E = 1: their days say nothing, and the channel is
 * undefined (LS_UNDEFINED), as it is for two accounts whose spans do not
 * overlap.
 */
static double
day_excess(LsPrepared *a, LsPrepared *b)
{
	double		j = ls_bottomk_jaccard(a->day, a->n_day, b->day, b->n_day, LS_K_DAY);
	int64		lo = Max(a->first_day, b->first_day);
	int64		hi = Min(a->last_day, b->last_day);
	double		shared = 0;
	int64		n[7];

	if (j == LS_UNDEFINED || hi < lo)
		return LS_UNDEFINED;
	prepare_weekday(a);
	prepare_weekday(b);
	weekdays_in(lo, hi, n);
	for (int w = 0; w < 7; w++)
		shared += n[w] * (a->day_rate[w] * b->day_rate[w]);
	return beyond_chance(j, shared, a->days, b->days);
}

/*
 * Co-activity: the active 15-minute buckets two accounts share beyond
 * chance, as day_excess does for days.  Each account's active buckets are
 * spread over the hours of the week as its requests are, evenly over the
 * days of its span: an account with A active buckets, a share s(h) of its
 * requests in hour h of the week and n(w) days of that hour's weekday in
 * its span is active in a bucket of hour h with rate A s(h) / (4 n(w)).
 * Over the days both were around, E[shared] = sum over the hours of
 * 4 n_both(w) q_a(h) q_b(h), at most the smaller set.  Two users of one
 * app who were both busy through the day after a release share many
 * buckets, and their rhythms predict as many; a campaign's job windows,
 * which move from day to day, are not predicted by any rhythm.  The
 * score is (J - E) / (1 - E) for the Jaccard J and its expectation E.
 */
static double
sim_coactivity(LsPrepared *a, LsPrepared *b)
{
	double		j = ls_bottomk_jaccard(a->act, a->n_act, b->act, b->n_act, LS_K_ACT);
	double		na_act,
				nb_act,
				shared = 0;
	int64		lo = Max(a->first_day, b->first_day);
	int64		hi = Min(a->last_day, b->last_day);
	const int64 *na,
			   *nb;
	int64		nboth[7];
	const int	slots = (int) (USECS_PER_HOUR / LS_BUCKET_USECS);

	if (j == LS_UNDEFINED || j <= 0)
		return j;
	if (!a->timed || !b->timed || hi < lo)
		return 0;
	prepare_weekday(a);
	prepare_weekday(b);
	na_act = a->buckets;
	nb_act = b->buckets;
	na = a->span;
	nb = b->span;
	weekdays_in(lo, hi, nboth);
	for (int w = 0; w < 7; w++)
	{
		const uint32 *ha = a->fp->hours + w * 24;
		const uint32 *hb = b->fp->hours + w * 24;
		double		dot = 0;

		if (nboth[w] == 0)
			continue;
		for (int h = 0; h < 24; h++)
			dot += (double) ha[h] * hb[h];
		shared += dot * nboth[w] / ((double) na[w] * nb[w]);
	}
	shared *= na_act * nb_act / (slots * (double) a->fp->n_timed * (double) b->fp->n_timed);
	shared = Min(shared, Min(na_act, nb_act));
	return beyond_chance(j, shared, na_act, nb_act);
}

/*
 * Calendar: the working days two accounts share beyond chance, the trace
 * of one operator behind human-looking hours and time zones.
 */
static double
sim_calendar(LsPrepared *a, LsPrepared *b)
{
	if (!a->timed && !b->timed)
		return LS_UNDEFINED;
	if (!a->timed || !b->timed)
		return 0;
	return day_excess(a, b);
}

PREPARED_PAIR(ls_sim_infrastructure, sim_infrastructure)
PREPARED_PAIR(ls_sim_coactivity, sim_coactivity)
PREPARED_PAIR(ls_sim_calendar, sim_calendar)

/*
 * Model adoption: over the union of models, a model both use scores
 * exp(-|difference of first-seen times| / 1 day) (1 when neither time is
 * known), a model only one uses scores 0; the mean.
 */
static double
sim_models(LsPrepared *a, LsPrepared *b)
{
	const LsModelTime *ma = a->models;
	const LsModelTime *mb = b->models;
	int			na = a->n_models,
				nb = b->n_models;
	double		sum = 0;
	int			n = 0,
				i = 0,
				j = 0;

	while (i < na || j < nb)
	{
		n++;
		if (j >= nb || (i < na && ma[i].hash < mb[j].hash))
			i++;
		else if (i >= na || mb[j].hash < ma[i].hash)
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

PREPARED_PAIR(ls_sim_models, sim_models)

/*
 * The two families of channels.  A campaign is one operator doing one job
 * through many accounts, so two of its accounts agree on both:
 *	- the work: what they ask (content, intents), how the answers are
 *	  taken up (models), at which hours of the week (hours);
 *	- the operator: the same hands, seen in the same days (calendar), the
 *	  same 15-minute windows (co-activity) or the same networks and cards
 *	  (infrastructure).
 * Humans who use one popular template or one app share the work but not
 * the operator; a team shares the operator but not the work.  The
 * combined similarity is the geometric mean of the two families, so
 * neither alone makes two accounts similar.  The work is the weighted
 * mean of its channels; the operator is the strongest of its channels
 * (each scaled by its weight over the family's largest), because an
 * operator who varies the cheap traces (addresses, cards, windows) cannot
 * vary them all, and no one channel is required.
 */
static const bool is_operator[LS_N_CHANNELS] = {
	[LS_CH_INFRA] = true, [LS_CH_COACTIVITY] = true, [LS_CH_CALENDAR] = true
};

/*
 * The work's channels that say what is asked.  Without either, hours and
 * models alone (a time zone, a popular model) make no work: the family is
 * undefined.
 */
static const bool is_asked[LS_N_CHANNELS] = {
	[LS_CH_CONTENT] = true, [LS_CH_INTENTS] = true
};

/*
 * Channels in the order ls_prepared_at_least evaluates them: the
 * operator's first (adjacent bottom-k sketches), then the work's, the
 * channels that say what is asked (see is_asked) before the others, the
 * 672-byte hour histogram last.
 */
static const LsChannel eval_order[LS_N_CHANNELS] = {
	LS_CH_COACTIVITY, LS_CH_INFRA, LS_CH_CALENDAR,
	LS_CH_INTENTS, LS_CH_CONTENT, LS_CH_MODELS, LS_CH_HOURS
};

/* One channel's similarity. */
static double
channel_sim(LsPrepared *a, LsPrepared *b, LsChannel c)
{
	switch (c)
	{
		case LS_CH_CONTENT:
			return sim_content(a, b);
		case LS_CH_INTENTS:
			return sim_intents(a, b);
		case LS_CH_INFRA:
			return sim_infrastructure(a, b);
		case LS_CH_COACTIVITY:
			return sim_coactivity(a, b);
		case LS_CH_HOURS:
			return sim_hours(a, b);
		case LS_CH_MODELS:
			return sim_models(a, b);
		case LS_CH_CALENDAR:
			return sim_calendar(a, b);
		default:
			elog(ERROR, "unknown channel %d", (int) c);
	}
	return 0;					/* keep the compiler quiet */
}

/*
 * The combination of the two families' values (LS_UNDEFINED where no
 * channel of the family is defined): their geometric mean.  A family
 * the weights leave out (all its weights 0) is LS_UNDEFINED and the other
 * is the similarity; a family with weight but no defined channel knows
 * nothing shared, and the similarity is 0.
 */
static double
combine(double work, double op, bool work_weighted, bool op_weighted)
{
	if (!work_weighted)
		return op == LS_UNDEFINED ? 0.0 : op;
	if (!op_weighted)
		return work == LS_UNDEFINED ? 0.0 : work;
	if (work == LS_UNDEFINED || op == LS_UNDEFINED)
		return 0.0;
	return Min(1.0, sqrt(work * op));
}

/*
 * Is the similarity of a and b at least threshold?  If so, *sim gets it.
 * The operator's channels come first; then the work's stop as soon as the
 * channels left cannot lift the work far enough: with num / den the
 * weighted mean so far and R the weight of the channels left, no outcome
 * of theirs beats (num + R) / (den + R), since num <= den.  The value,
 * when computed, is exactly ls_similarity's.  known, if not NULL, holds
 * every channel's similarity already computed (ls_similarity_parts).
 */
static bool
at_least(LsPrepared *a, LsPrepared *b, const double *weights, double threshold,
		 double *sim, double *work, double *operator, const double *known)
{
	double		num = 0,
				den = 0,
				left = 0,
				op_max_weight = 0,
				op = LS_UNDEFINED;
	bool		asked = false;	/* content or intents is defined */
	bool		need_asked = false; /* ... and weighted: the work needs one */
	bool		work_weighted;

	if ((a->digest == 0 || b->digest == 0 || a->digest == b->digest) &&
		VARSIZE(a->fp) == VARSIZE(b->fp) && memcmp(a->fp, b->fp, VARSIZE(a->fp)) == 0)
	{
		*sim = *work = *operator = 1.0;
		return true;
	}
	for (int c = 0; c < LS_N_CHANNELS; c++)
	{
		if (is_operator[c])
			op_max_weight = Max(op_max_weight, weights[c]);
		else
			left += weights[c];
		need_asked |= is_asked[c] && weights[c] > 0;
	}
	work_weighted = left > 0;
	for (int k = 0; k < LS_N_CHANNELS; k++)
	{
		LsChannel	c = eval_order[k];
		double		s;

		if (weights[c] == 0)
			continue;
		if (is_operator[c])
		{
			s = known ? known[c] : channel_sim(a, b, c);
			if (s != LS_UNDEFINED)
				op = Max(op, s * weights[c] / op_max_weight);
			continue;
		}
		if (need_asked && !asked && !is_asked[c])
			break;				/* neither content nor intents: no work */
		if ((asked || !need_asked) && den + left > 0 &&
			combine((num + left) / (den + left), op, work_weighted, op_max_weight > 0) < threshold)
		{
			*work = *operator = *sim = LS_UNDEFINED;
			return false;
		}
		left -= weights[c];
		s = known ? known[c] : channel_sim(a, b, c);
		if (s != LS_UNDEFINED)
		{
			num += weights[c] * s;
			den += weights[c];
			asked |= is_asked[c];
		}
	}
	*work = (asked || (!need_asked && den > 0)) ? num / den : LS_UNDEFINED;
	*operator = op;
	*sim = combine(*work, op, work_weighted, op_max_weight > 0);
	return *sim >= threshold;
}

bool
ls_prepared_at_least(LsPrepared *a, LsPrepared *b,
					 const double *weights, double threshold, double *sim)
{
	double		work,
				op;

	return at_least(a, b, weights, threshold, sim, &work, &op, NULL);
}

/* ls_prepared_at_least for two plain fingerprints. */
bool
ls_similarity_at_least(const Fingerprint *a, const Fingerprint *b,
					   const double *weights, double threshold, double *sim)
{
	LsPrepared	pa,
				pb;

	ls_prepare(a, &pa);
	ls_prepare(b, &pb);
	return ls_prepared_at_least(&pa, &pb, weights, threshold, sim);
}

/*
 * Everything about a pair at once: every channel's similarity, the two
 * families' and the combined one, each fingerprint decoded once and each
 * channel computed once (at_least's values, to the bit: the similarity is
 * ls_similarity's).
 */
void
ls_similarity_parts(const Fingerprint *a, const Fingerprint *b, const double *weights,
					double *sims, double *sim, double *work, double *operator)
{
	LsPrepared	pa,
				pb;

	ls_prepare(a, &pa);
	ls_prepare(b, &pb);
	for (int c = 0; c < LS_N_CHANNELS; c++)
		sims[c] = channel_sim(&pa, &pb, c);
	at_least(&pa, &pb, weights, 0.0, sim, work, operator, sims);
}

/*
 * The combined similarity (see is_operator).  Two fingerprints with no
 * defined channel at all carry no behaviour: 1 if they are the same
 * value, else 0.
 */
double
ls_similarity(const Fingerprint *a, const Fingerprint *b, const double *weights)
{
	double		sim;

	ls_similarity_at_least(a, b, weights, 0.0, &sim);
	return sim;
}
