/*
 * sketch.c
 *	  The fingerprint's sketches: updates of the expanded state by one
 *	  request, and the merge of two states.  format.c converts a state to
 *	  and from the stored and wire forms.
 *
 * Merge law.  Every part is a function of the multiset of rows alone:
 * counters, the hour-of-week histogram, first/last seen, the bottom-k
 * sketches of hashes (infrastructure, co-activity, days), the scaffold
 * keys (the LS_MAX_KEYS smallest keys with exact counts) and the models
 * (the LS_MAX_MODELS smallest name hashes with exact counts and first-seen
 * times; the rest counted in other_models).  A bottom-k with exact counts
 * merges exactly: a key among the k smallest of a union is among the k
 * smallest of every part that holds it, so no part ever dropped any of
 * its count.  So merging the states of two row sets gives exactly the
 * state of their union, and the bytes do not depend on row order, plan
 * or merge tree.
 *
 * Pure code: no fmgr.
 */
#include "sketch.h"
#include "hashing.h"

#include "common/int.h"
#include "datatype/timestamp.h"

/* Seeds that keep the hash spaces of the different sketches apart. */
#define SEED_ACT	UINT64CONST(0x6c6f636b73746570)
#define SEED_DAY	UINT64CONST(0x646179736b657463)

static void refresh_hot(LsState *st);

/* An empty state. */
void
ls_state_init(LsState *st)
{
	memset(st, 0, sizeof(LsState));
	st->f.version = LS_VERSION;
	refresh_hot(st);
}

/* Insert h into the ascending bottom-k array arr[0..*n) of capacity k. */
static void
bottomk_insert(uint32 *arr, uint8 *n, int k, uint32 h)
{
	int			i;
	int			last;

	if (*n == k && h >= arr[k - 1])
		return;
	for (i = *n - 1; i >= 0 && arr[i] > h; i--)
		;
	if (i >= 0 && arr[i] == h)
		return;
	last = (*n == k) ? k - 1 : *n;
	memmove(&arr[i + 2], &arr[i + 1], (last - i - 1) * sizeof(uint32));
	arr[i + 1] = h;
	if (*n < k)
		(*n)++;
}

/* The array, fill count and capacity of one sketch. */
static inline void
sketch_of(LsState *st, LsSketch which, uint32 **arr, uint8 **n, int *k)
{
	switch (which)
	{
		case LS_SK_IP:
			*arr = st->f.ip, *n = &st->f.n_ip, *k = LS_K_IP;
			break;
		case LS_SK_UA:
			*arr = st->f.ua, *n = &st->f.n_ua, *k = LS_K_UA;
			break;
		case LS_SK_PAY:
			*arr = st->f.pay, *n = &st->f.n_pay, *k = LS_K_PAY;
			break;
		case LS_SK_ACT:
			*arr = st->f.act, *n = &st->f.n_act, *k = LS_K_ACT;
			break;
		default:
			*arr = st->f.day, *n = &st->f.n_day, *k = LS_K_DAY;
			break;
	}
}

/* Recompute the admission limit of a sketch from its array. */
static inline void
refresh_limit(LsState *st, LsSketch which)
{
	uint32	   *arr;
	uint8	   *n;
	int			k;

	sketch_of(st, which, &arr, &n, &k);
	st->limit[which] = (*n == k) ? arr[k - 1] : PG_UINT32_MAX;
}

/*
 * Forget the per-row cache and recompute the limits; after anything that
 * rewrites the sketches wholesale.  (The cache would stay valid across a
 * merge, since limits only fall, but starting clean is simpler to trust.)
 */
static void
refresh_hot(LsState *st)
{
	st->last_valid = 0;
	for (int s = 0; s < LS_N_SKETCHES; s++)
		refresh_limit(st, s);
}

/*
 * Offer a hash to a bottom-k sketch.  A hash equal to the last one offered
 * needs no work: it was inserted then (and can only have been pushed out
 * by smaller ones since, so it would be refused now) or refused then (and
 * the limit has only fallen).
 */
void
ls_state_add_sketch(LsState *st, LsSketch which, uint64 hash)
{
	uint32		h = ls_sketch_key(hash);
	uint32	   *arr;
	uint8	   *n;
	int			k;

	if (((st->last_valid >> which) & 1) && st->last[which] == h)
		return;
	st->last[which] = h;
	st->last_valid |= 1 << which;
	if (h >= st->limit[which])
		return;
	sketch_of(st, which, &arr, &n, &k);
	bottomk_insert(arr, n, k, h);
	refresh_limit(st, which);
}

/* Account for one timestamped request; hour is ls_hour_of_week(ts). */
void
ls_state_add_time(LsState *st, int64 ts, int hour)
{
	int64		bucket = ls_floor_div(ts, LS_BUCKET_USECS);

	Assert(hour == ls_hour_of_week(ts));
	if (unlikely(st->f.hours[hour] == PG_UINT32_MAX))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("fingerprint counter overflow")));
	st->f.hours[hour]++;
	if (st->f.n_timed == 0)
		st->f.first_seen = st->f.last_seen = ts;
	else
	{
		st->f.first_seen = Min(st->f.first_seen, ts);
		st->f.last_seen = Max(st->f.last_seen, ts);
	}
	ls_add_u64(&st->f.n_timed, 1);
	/* fmix64 is a bijection with full avalanche: enough for a bottom-k */
	ls_state_add_sketch(st, LS_SK_ACT, ls_fmix64((uint64) bucket ^ SEED_ACT));
	ls_state_add_sketch(st, LS_SK_DAY,
						ls_fmix64((uint64) ls_floor_div(bucket, USECS_PER_DAY / LS_BUCKET_USECS) ^ SEED_DAY));
}

/*
 * Ask for the cache lines of st that a row updates: the head and counters,
 * the hour-of-week bin hour (none if negative), the scaffold keys.
 * (Also asking for the sketches and models measured no faster.)
 */
void
ls_state_prefetch(const LsState *st, int hour)
{
	const char *p = (const char *) st;

	for (Size off = 0; off < offsetof(LsState, f.hours); off += 64)
		__builtin_prefetch(p + off, 1);
	if (hour >= 0)
		__builtin_prefetch(&st->f.hours[hour], 1);
	for (int i = 0; i < LS_MAX_KEYS; i += 64 / sizeof(LsKeyCount))
		__builtin_prefetch(&st->keys[i], 1);
}

/*
 * Count one scaffold key into the bottom-k: found by binary search; a new
 * key enters in order, pushing out the largest when full, unless it is
 * larger than all of a full sample.
 */
static void
keys_add(LsState *st, uint32 key)
{
	LsKeyCount *keys = st->keys;
	int			n = st->f.n_keys;
	int			lo = 0,
				hi = n;

	if (n == LS_MAX_KEYS && key > keys[n - 1].key)
		return;
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (keys[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && keys[lo].key == key)
	{
		ls_add_u32(&keys[lo].count, 1);
		return;
	}
	if (n == LS_MAX_KEYS)
		n--;					/* the largest falls out */
	memmove(&keys[lo + 1], &keys[lo], (n - lo) * sizeof(LsKeyCount));
	keys[lo].key = key;
	keys[lo].count = 1;
	st->f.n_keys = n + 1;
}

/* Account for one non-NULL prompt of nbytes bytes. */
void
ls_state_add_prompt(LsState *st, const LsPromptInfo *info, int nbytes)
{
	ls_add_u64(&st->f.n_prompts, 1);
	ls_add_u64(&st->f.prompt_bytes, nbytes);
	for (int i = 0; i < LS_N_INTENTS; i++)
		if (info->intents & (1u << i))
			st->f.intents[i]++;
	if (info->n_keys == 0)
		return;
	st->f.n_keyed++;
	st->f.key_stream += info->n_keys;
	for (int i = 0; i < info->n_keys; i++)
		keys_add(st, info->keys[i]);
}

/*
 * Copy a model name for display: its first LS_MODEL_NAME_LEN - 1 bytes,
 * printable ASCII kept and anything else shown as '?', so that the value
 * loads into a database of any encoding.  The model's identity is the
 * hash of the whole name (fingerprint_models, lockstep_model_hash).
 */
static void
copy_model_name(char *dst, const char *name, int len)
{
	len = Min(len, LS_MODEL_NAME_LEN - 1);
	memset(dst, 0, LS_MODEL_NAME_LEN);
	for (int i = 0; i < len; i++)
		dst[i] = (name[i] >= 0x20 && name[i] < 0x7f) ? name[i] : '?';
}

/* Account for one request to a model; ts is LS_NO_TIME if unknown. */
void
ls_state_add_model(LsState *st, const char *name, int len, int64 ts)
{
	uint64		h = ls_model_hash(name, len);
	int			n = st->f.n_models;
	int			i;

	for (i = 0; i < n && st->models[i].hash < h; i++)
		;
	if (i < n && st->models[i].hash == h)
	{
		st->models[i].count++;
		st->models[i].first_seen = Min(st->models[i].first_seen, ts);
		return;
	}
	if (n == LS_MAX_MODELS)
	{
		/* full: the largest hash leaves (maybe this one) and counts as other */
		if (i == n)
		{
			ls_add_u64(&st->f.other_models, 1);
			return;
		}
		ls_add_u64(&st->f.other_models, st->models[n - 1].count);
		n--;
		st->f.n_models--;
	}
	memmove(&st->models[i + 1], &st->models[i], (n - i) * sizeof(LsModel));
	st->models[i].hash = h;
	st->models[i].first_seen = ts;
	st->models[i].count = 1;
	copy_model_name(st->models[i].name, name, len);
	st->f.n_models++;
}

/* Union of two ascending bottom-k arrays into dst (capacity k). */
static void
bottomk_merge(uint32 *dst, uint8 *ndst, const uint32 *src, int nsrc, int k)
{
	uint32		out[LS_K_MAX];
	int			i = 0,
				j = 0,
				n = 0;

	Assert(k <= LS_K_MAX);
	while (n < k && (i < *ndst || j < nsrc))
	{
		if (j >= nsrc || (i < *ndst && dst[i] < src[j]))
			out[n++] = dst[i++];
		else if (i >= *ndst || src[j] < dst[i])
			out[n++] = src[j++];
		else
		{
			out[n++] = dst[i++];
			j++;
		}
	}
	memset(dst, 0, k * sizeof(uint32));
	memcpy(dst, out, n * sizeof(uint32));
	*ndst = n;
}

/* Descending by count, then ascending by key: a total order. */
int
ls_cmp_key_count_desc(const void *a, const void *b)
{
	const LsKeyCount *x = a;
	const LsKeyCount *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->key < y->key ? -1 : (x->key > y->key);
}

/* Union of the key samples: counts of a common key add, the k smallest stay. */
static void
keys_merge(LsState *dst, const LsState *src)
{
	LsKeyCount	out[LS_MAX_KEYS];
	const LsKeyCount *a = dst->keys,
			   *b = src->keys;
	int			na = dst->f.n_keys,
				nb = src->f.n_keys;
	int			i = 0,
				j = 0,
				n = 0;

	while (n < LS_MAX_KEYS && (i < na || j < nb))
	{
		if (j >= nb || (i < na && a[i].key < b[j].key))
			out[n++] = a[i++];
		else if (i >= na || b[j].key < a[i].key)
			out[n++] = b[j++];
		else
		{
			out[n] = a[i++];
			ls_add_u32(&out[n++].count, b[j++].count);
		}
	}
	memset(dst->keys, 0, sizeof(dst->keys));
	memcpy(dst->keys, out, n * sizeof(LsKeyCount));
	dst->f.n_keys = n;
}

/* Union of the model lists; beyond capacity the largest hashes count as other. */
static void
models_merge(LsState *dst, const LsState *src)
{
	LsModel		all[2 * LS_MAX_MODELS];
	int			n = 0,
				i = 0,
				j = 0;

	while (i < dst->f.n_models || j < src->f.n_models)
	{
		if (j >= src->f.n_models ||
			(i < dst->f.n_models && dst->models[i].hash < src->models[j].hash))
			all[n++] = dst->models[i++];
		else if (i >= dst->f.n_models || src->models[j].hash < dst->models[i].hash)
			all[n++] = src->models[j++];
		else
		{
			all[n] = dst->models[i++];
			ls_add_u64(&all[n].count, src->models[j].count);
			all[n].first_seen = Min(all[n].first_seen, src->models[j].first_seen);
			n++;
			j++;
		}
	}
	for (; n > LS_MAX_MODELS; n--)
		ls_add_u64(&dst->f.other_models, all[n - 1].count);
	memset(dst->models, 0, sizeof(dst->models));
	memcpy(dst->models, all, n * sizeof(LsModel));
	dst->f.n_models = n;
}

/* dst := merge(dst, src). */
void
ls_state_merge(LsState *dst, const LsState *src)
{
	LsFixed    *d = &dst->f;
	const LsFixed *s = &src->f;

	ls_add_u64(&d->n_requests, s->n_requests);
	ls_add_u64(&d->n_prompts, s->n_prompts);
	ls_add_u64(&d->n_keyed, s->n_keyed);
	ls_add_u64(&d->key_stream, s->key_stream);
	ls_add_u64(&d->prompt_bytes, s->prompt_bytes);
	ls_add_u64(&d->tokens_in, s->tokens_in);
	ls_add_u64(&d->tokens_out, s->tokens_out);
	ls_add_u64(&d->other_models, s->other_models);
	for (int i = 0; i < LS_N_INTENTS; i++)
		ls_add_u64(&d->intents[i], s->intents[i]);
	if (s->n_timed > 0)
	{
		if (d->n_timed == 0)
		{
			d->first_seen = s->first_seen;
			d->last_seen = s->last_seen;
		}
		else
		{
			d->first_seen = Min(d->first_seen, s->first_seen);
			d->last_seen = Max(d->last_seen, s->last_seen);
		}
		ls_add_u64(&d->n_timed, s->n_timed);
		for (int i = 0; i < LS_HOURS_OF_WEEK; i++)
			if (unlikely(pg_add_u32_overflow(d->hours[i], s->hours[i], &d->hours[i])))
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("fingerprint counter overflow")));
	}
	bottomk_merge(d->ip, &d->n_ip, s->ip, s->n_ip, LS_K_IP);
	bottomk_merge(d->ua, &d->n_ua, s->ua, s->n_ua, LS_K_UA);
	bottomk_merge(d->pay, &d->n_pay, s->pay, s->n_pay, LS_K_PAY);
	bottomk_merge(d->act, &d->n_act, s->act, s->n_act, LS_K_ACT);
	bottomk_merge(d->day, &d->n_day, s->day, s->n_day, LS_K_DAY);
	keys_merge(dst, src);
	models_merge(dst, src);
	refresh_hot(dst);
}

/* Distinct-count estimate of a bottom-k sketch (exact below k). */
double
ls_kmv_distinct(const uint32 *arr, int n, int k)
{
	if (n < k)
		return n;
	/* (k - 1) / U(k), U the k-th smallest hash scaled to (0, 1] */
	return (k - 1) / (((double) arr[k - 1] + 1.0) / 4294967296.0);
}

/* Rebuild the per-row caches of a state whose arrays were just filled. */
void
ls_state_refresh(LsState *st)
{
	refresh_hot(st);
}
