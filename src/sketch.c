/*
 * sketch.c
 *	  The fingerprint's sketches: updates, the merge, and conversions
 *	  between the expanded state, the on-disk varlena and the canonical
 *	  big-endian wire form.
 *
 * Merge law.  For counters, the hour-of-week histogram, first/last seen
 * and the bottom-k sketches (infrastructure, co-activity), merging the
 * states of two row sets gives exactly the state of their union.  The
 * scaffold keys are Misra-Gries counters (Agarwal et al., "Mergeable
 * summaries", 2012): each stored count underestimates the true count of
 * its key by at most (key_stream - sum of stored counts) / (LS_MAX_KEYS + 1),
 * whatever the merge order.  Per-model counts and first-seen times are
 * exact while an account uses at most LS_MAX_MODELS models.
 *
 * Pure code: no fmgr.
 */
#include "lockstep.h"
#include "lshash.h"

#include "common/int.h"
#include "datatype/timestamp.h"
#include "mb/pg_wchar.h"

/* Seeds that keep the hash spaces of the different sketches apart. */
#define SEED_ACT	UINT64CONST(0x6c6f636b73746570)

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
		default:
			*arr = st->f.act, *n = &st->f.n_act, *k = LS_K_ACT;
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
	uint32		h = (uint32) (hash >> 32);
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

/* Account for one timestamped request; how is ls_how_index(ts). */
void
ls_state_add_time(LsState *st, int64 ts, int how)
{
	int64		bucket = ts / LS_BUCKET_USECS - (ts % LS_BUCKET_USECS < 0);

	Assert(how == ls_how_index(ts));
	if (unlikely(st->f.how[how] == PG_UINT32_MAX))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("fingerprint counter overflow")));
	st->f.how[how]++;
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
}

/*
 * Ask for the cache lines of st that a row updates: the head and counters,
 * the hour-of-week bin how (none if negative), the scaffold tags and keys.
 * (Also asking for the sketches and models measured no faster.)
 */
void
ls_state_prefetch(const LsState *st, int how)
{
	const char *p = (const char *) st;

	for (Size off = 0; off < offsetof(LsState, f.how); off += 64)
		__builtin_prefetch(p + off, 1);
	if (how >= 0)
		__builtin_prefetch(&st->f.how[how], 1);
	__builtin_prefetch(st->tags, 1);
	__builtin_prefetch(st->tags + LS_MAX_KEYS - 1, 1);
	for (int i = 0; i < LS_MAX_KEYS; i += 64 / sizeof(LsKeyCount))
		__builtin_prefetch(&st->keys[i], 1);
}

/* The tag of a scaffold key. */
static inline uint8
key_tag(uint64 key)
{
	return (uint8) (key >> 56);
}

/* Recompute the tags after the key array was rewritten. */
static void
rebuild_tags(LsState *st)
{
	memset(st->tags, 0, sizeof(st->tags));
	for (int i = 0; i < st->f.n_keys; i++)
		st->tags[i] = key_tag(st->keys[i].key);
}

/* One Misra-Gries update with weight 1. */
static void
mg_add(LsState *st, uint64 key)
{
	int			n = st->f.n_keys;
	uint8		tag = key_tag(key);
	int			j = 0;

	for (int i = 0; i < n; i++)
		if (st->tags[i] == tag && st->keys[i].key == key)
		{
			ls_add_u64(&st->keys[i].count, 1);
			return;
		}
	if (n < LS_MAX_KEYS)
	{
		st->keys[n].key = key;
		st->keys[n].count = 1;
		st->tags[n] = tag;
		st->f.n_keys++;
		return;
	}
	/* full: decrement every counter, drop those reaching zero */
	for (int i = 0; i < n; i++)
		if (--st->keys[i].count > 0)
		{
			st->keys[j] = st->keys[i];
			st->tags[j++] = st->tags[i];
		}
	memset(&st->keys[j], 0, (n - j) * sizeof(LsKeyCount));
	memset(&st->tags[j], 0, (n - j) * sizeof(uint8));
	st->f.n_keys = j;
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
		mg_add(st, info->keys[i]);
}

/* Copy a model name, cut to fit at a character boundary, zero-padded. */
static void
copy_model_name(char *dst, const char *name, int len)
{
	if (len >= LS_MODEL_NAME_LEN)
		len = pg_mbcliplen(name, len, LS_MODEL_NAME_LEN - 1);
	memset(dst, 0, LS_MODEL_NAME_LEN);
	memcpy(dst, name, len);
}

/* Account for one request to a model; ts is LS_NO_TIME if unknown. */
void
ls_state_add_model(LsState *st, const char *name, int len, int64 ts)
{
	uint64		h = ls_hash_bytes(name, len, 0);
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
		ls_add_u64(&st->f.other_models, 1);
		return;
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
	uint32		out[LS_K_ACT];
	int			i = 0,
				j = 0,
				n = 0;

	Assert(k <= LS_K_ACT);
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

/* Merge Misra-Gries counters (Agarwal et al.): add, subtract the (k+1)-th. */
static void
mg_merge(LsState *dst, const LsState *src)
{
	LsKeyCount	all[2 * LS_MAX_KEYS];
	int			n = dst->f.n_keys;
	int			m = 0;

	memcpy(all, dst->keys, n * sizeof(LsKeyCount));
	for (int j = 0; j < src->f.n_keys; j++)
	{
		int			i;

		for (i = 0; i < dst->f.n_keys; i++)
			if (all[i].key == src->keys[j].key)
				break;
		if (i < dst->f.n_keys)
			ls_add_u64(&all[i].count, src->keys[j].count);
		else
			all[n++] = src->keys[j];
	}
	if (n > LS_MAX_KEYS)
	{
		uint64		cut;

		qsort(all, n, sizeof(LsKeyCount), ls_cmp_key_count_desc);
		cut = all[LS_MAX_KEYS].count;
		for (int i = 0; i < n; i++)
			if (all[i].count > cut)
			{
				all[m] = all[i];
				all[m++].count -= cut;
			}
		n = m;
	}
	memset(dst->keys, 0, sizeof(dst->keys));
	memcpy(dst->keys, all, n * sizeof(LsKeyCount));
	dst->f.n_keys = n;
	rebuild_tags(dst);
}

/* Descending by count, then ascending by hash. */
static int
cmp_model_count_desc(const void *a, const void *b)
{
	const LsModel *x = a;
	const LsModel *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->hash < y->hash ? -1 : (x->hash > y->hash);
}

/* Ascending by hash. */
static int
cmp_model_hash(const void *a, const void *b)
{
	const LsModel *x = a;
	const LsModel *y = b;

	return x->hash < y->hash ? -1 : (x->hash > y->hash);
}

/* Union of the model lists; beyond capacity the least used become "other". */
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
	if (n > LS_MAX_MODELS)
	{
		qsort(all, n, sizeof(LsModel), cmp_model_count_desc);
		for (int k = LS_MAX_MODELS; k < n; k++)
			ls_add_u64(&dst->f.other_models, all[k].count);
		n = LS_MAX_MODELS;
		qsort(all, n, sizeof(LsModel), cmp_model_hash);
	}
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
			if (unlikely(pg_add_u32_overflow(d->how[i], s->how[i], &d->how[i])))
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("fingerprint counter overflow")));
	}
	bottomk_merge(d->ip, &d->n_ip, s->ip, s->n_ip, LS_K_IP);
	bottomk_merge(d->ua, &d->n_ua, s->ua, s->n_ua, LS_K_UA);
	bottomk_merge(d->pay, &d->n_pay, s->pay, s->n_pay, LS_K_PAY);
	bottomk_merge(d->act, &d->n_act, s->act, s->n_act, LS_K_ACT);
	mg_merge(dst, src);
	models_merge(dst, src);
	refresh_hot(dst);
}

/* Ascending by key. */
static int
cmp_key(const void *a, const void *b)
{
	const LsKeyCount *x = a;
	const LsKeyCount *y = b;

	return x->key < y->key ? -1 : (x->key > y->key);
}

/* The state's keys sorted by key, into out; the state is left alone. */
static void
sorted_keys(const LsState *st, LsKeyCount *out)
{
	memcpy(out, st->keys, st->f.n_keys * sizeof(LsKeyCount));
	qsort(out, st->f.n_keys, sizeof(LsKeyCount), cmp_key);
}

/* The on-disk varlena of a state, palloc'd in the current context. */
Fingerprint *
ls_state_pack(const LsState *st)
{
	Size		size = LS_FP_SIZE(st->f.n_keys, st->f.n_models);
	Fingerprint *fp = palloc0(size);

	memcpy(fp, &st->f, sizeof(LsFixed));
	SET_VARSIZE(fp, size);
	sorted_keys(st, LS_FP_KEYS(fp));
	memcpy(LS_FP_MODELS(fp), st->models, st->f.n_models * sizeof(LsModel));
	return fp;
}

/* Raise DATA_EXCEPTION for a stored fingerprint of another format version. */
void
ls_check_version(const Fingerprint *fp)
{
	if (fp->version != LS_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("fingerprint version %d is not supported", fp->version),
				 errhint("This build of lockstep reads version %d; rebuild the fingerprint with fingerprint_agg.",
						 LS_VERSION)));
}

/* Expand an on-disk fingerprint into a state. */
void
ls_state_unpack(const Fingerprint *fp, LsState *st)
{
	ls_check_version(fp);
	memset(st, 0, sizeof(LsState));
	memcpy(&st->f, fp, sizeof(LsFixed));
	memcpy(st->keys, LS_FP_KEYS(fp), fp->n_keys * sizeof(LsKeyCount));
	memcpy(st->models, LS_FP_MODELS(fp), fp->n_models * sizeof(LsModel));
	rebuild_tags(st);
	refresh_hot(st);
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

/*
 * The canonical wire form.  Layout (big-endian):
 *	8 bytes		version, n_keys, n_models, n_ip, n_ua, n_pay, n_act, 0
 *	15 x u64	n_requests, n_prompts, n_keyed, key_stream, n_timed,
 *				prompt_bytes, tokens_in, tokens_out, other_models, intents[6]
 *	2 x i64		first_seen, last_seen
 *	168 x u32	hour-of-week histogram
 *	u32 each	ip[n_ip], ua[n_ua], pay[n_pay], act[n_act]
 *	n_keys x	u64 key, u64 count (ascending key)
 *	n_models x	u64 hash, i64 first_seen, u64 count, u8 len, len bytes of name
 */
#define WIRE_HEAD	(8 + 15 * 8 + 2 * 8 + LS_HOURS_OF_WEEK * 4)

/* Size of the wire form of st. */
Size
ls_wire_size(const LsState *st)
{
	Size		size = WIRE_HEAD;

	size += 4 * (st->f.n_ip + st->f.n_ua + st->f.n_pay + st->f.n_act);
	size += 16 * st->f.n_keys;
	for (int i = 0; i < st->f.n_models; i++)
		size += 25 + strnlen(st->models[i].name, LS_MODEL_NAME_LEN);
	return size;
}

static inline unsigned char *
put_u32(unsigned char *p, uint32 v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
	return p + 4;
}

static inline unsigned char *
put_u64(unsigned char *p, uint64 v)
{
	p = put_u32(p, (uint32) (v >> 32));
	return put_u32(p, (uint32) v);
}

static inline uint32
get_u32(const unsigned char *p)
{
	return ((uint32) p[0] << 24) | ((uint32) p[1] << 16) | ((uint32) p[2] << 8) | p[3];
}

static inline uint64
get_u64(const unsigned char *p)
{
	return ((uint64) get_u32(p) << 32) | get_u32(p + 4);
}

/* The fixed-position u64 fields, in wire order. */
#define N_WIRE_U64	(9 + LS_N_INTENTS)
static inline void
wire_u64_fields(LsFixed *f, uint64 **fields)
{
	uint64	   *list[9] = {&f->n_requests, &f->n_prompts, &f->n_keyed,
		&f->key_stream, &f->n_timed, &f->prompt_bytes, &f->tokens_in,
	&f->tokens_out, &f->other_models};

	memcpy(fields, list, sizeof(list));
	for (int i = 0; i < LS_N_INTENTS; i++)
		fields[9 + i] = &f->intents[i];
}

/* Write the wire form of st into buf (ls_wire_size bytes); returns the size. */
Size
ls_wire_write(const LsState *st, unsigned char *buf)
{
	unsigned char *p = buf;
	uint64	   *fields[N_WIRE_U64];
	LsKeyCount	keys[LS_MAX_KEYS];
	const LsFixed *f = &st->f;

	*p++ = f->version;
	*p++ = f->n_keys;
	*p++ = f->n_models;
	*p++ = f->n_ip;
	*p++ = f->n_ua;
	*p++ = f->n_pay;
	*p++ = f->n_act;
	*p++ = 0;
	wire_u64_fields((LsFixed *) f, fields);
	for (int i = 0; i < N_WIRE_U64; i++)
		p = put_u64(p, *fields[i]);
	p = put_u64(p, (uint64) f->first_seen);
	p = put_u64(p, (uint64) f->last_seen);
	for (int i = 0; i < LS_HOURS_OF_WEEK; i++)
		p = put_u32(p, f->how[i]);
	for (int i = 0; i < f->n_ip; i++)
		p = put_u32(p, f->ip[i]);
	for (int i = 0; i < f->n_ua; i++)
		p = put_u32(p, f->ua[i]);
	for (int i = 0; i < f->n_pay; i++)
		p = put_u32(p, f->pay[i]);
	for (int i = 0; i < f->n_act; i++)
		p = put_u32(p, f->act[i]);
	sorted_keys(st, keys);
	for (int i = 0; i < f->n_keys; i++)
	{
		p = put_u64(p, keys[i].key);
		p = put_u64(p, keys[i].count);
	}
	for (int i = 0; i < f->n_models; i++)
	{
		const LsModel *m = &st->models[i];
		int			len = strnlen(m->name, LS_MODEL_NAME_LEN);

		p = put_u64(p, m->hash);
		p = put_u64(p, (uint64) m->first_seen);
		p = put_u64(p, m->count);
		*p++ = (unsigned char) len;
		memcpy(p, m->name, len);
		p += len;
	}
	Assert(p - buf == ls_wire_size(st));
	return p - buf;
}

/* Read an ascending, duplicate-free bottom-k array of n u32. */
static const char *
read_bottomk(const unsigned char **pp, uint32 *arr, int n, const char *what)
{
	for (int i = 0; i < n; i++)
	{
		arr[i] = get_u32(*pp);
		*pp += 4;
		if (i > 0 && arr[i] <= arr[i - 1])
			return psprintf("%s sketch is not strictly ascending", what);
	}
	return NULL;
}

/*
 * Parse and validate a wire form into st.  Returns NULL on success, else
 * a description of the first problem found (for errdetail).  Every
 * invariant the update and merge code maintains is checked, so a value
 * that passes is one the aggregates could have produced.
 */
const char *
ls_wire_read(const unsigned char *buf, Size len, LsState *st)
{
	const unsigned char *p = buf;
	const unsigned char *end = buf + len;
	uint64	   *fields[N_WIRE_U64];
	LsFixed    *f = &st->f;
	uint64		sum;
	const char *err;
	Size		need;

	ls_state_init(st);
	if (len < 8)
		return "input is too short";
	if (buf[0] != LS_VERSION)
		return psprintf("fingerprint format version %d is not supported (this build reads version %d)",
						buf[0], LS_VERSION);
	if (buf[1] > LS_MAX_KEYS || buf[2] > LS_MAX_MODELS || buf[3] > LS_K_IP ||
		buf[4] > LS_K_UA || buf[5] > LS_K_PAY || buf[6] > LS_K_ACT)
		return "a sketch length exceeds its capacity";
	if (buf[7] != 0)
		return "reserved byte is not zero";
	f->n_keys = buf[1];
	f->n_models = buf[2];
	f->n_ip = buf[3];
	f->n_ua = buf[4];
	f->n_pay = buf[5];
	f->n_act = buf[6];
	need = WIRE_HEAD + 4 * (f->n_ip + f->n_ua + f->n_pay + f->n_act) +
		16 * f->n_keys + 25 * f->n_models;
	if (len < need)
		return "input is truncated";
	p += 8;
	wire_u64_fields(f, fields);
	for (int i = 0; i < N_WIRE_U64; i++, p += 8)
		*fields[i] = get_u64(p);
	f->first_seen = (int64) get_u64(p);
	f->last_seen = (int64) get_u64(p + 8);
	p += 16;
	sum = 0;
	for (int i = 0; i < LS_HOURS_OF_WEEK; i++, p += 4)
	{
		f->how[i] = get_u32(p);
		sum += f->how[i];
	}
	if (sum != f->n_timed)
		return "hour-of-week histogram does not sum to the timed request count";
	if ((err = read_bottomk(&p, f->ip, f->n_ip, "IP")) ||
		(err = read_bottomk(&p, f->ua, f->n_ua, "user agent")) ||
		(err = read_bottomk(&p, f->pay, f->n_pay, "payment")) ||
		(err = read_bottomk(&p, f->act, f->n_act, "activity")))
		return err;

	if (f->n_prompts > f->n_requests || f->n_timed > f->n_requests ||
		f->n_keyed > f->n_prompts)
		return "request counts are inconsistent";
	for (int i = 0; i < LS_N_INTENTS; i++)
		if (f->intents[i] > f->n_prompts)
			return "an intent count exceeds the prompt count";
	if (f->key_stream < f->n_keyed ||
		f->key_stream / LS_KEYS_PER_PROMPT > f->n_keyed)
		return "scaffold key count is inconsistent with the keyed prompt count";
	if (f->n_timed == 0 ? (f->first_seen != 0 || f->last_seen != 0 || f->n_act != 0)
		: (f->first_seen > f->last_seen || f->n_act == 0))
		return "first and last seen times are inconsistent";
	if ((f->n_ip > 0 || f->n_ua > 0 || f->n_pay > 0) && f->n_requests == 0)
		return "infrastructure sketch of an empty fingerprint";

	sum = 0;
	for (int i = 0; i < f->n_keys; i++, p += 16)
	{
		st->keys[i].key = get_u64(p);
		st->keys[i].count = get_u64(p + 8);
		if (st->keys[i].count == 0 || st->keys[i].count > f->key_stream)
			return "a scaffold key count is out of range";
		if (i > 0 && st->keys[i].key <= st->keys[i - 1].key)
			return "scaffold keys are not strictly ascending";
		sum += st->keys[i].count;
	}
	if (sum > f->key_stream)
		return "scaffold key counts exceed the key stream";
	rebuild_tags(st);
	refresh_hot(st);

	sum = f->other_models;
	for (int i = 0; i < f->n_models; i++)
	{
		LsModel    *m = &st->models[i];
		int			nlen;

		if (end - p < 25)
			return "input is truncated";
		m->hash = get_u64(p);
		m->first_seen = (int64) get_u64(p + 8);
		m->count = get_u64(p + 16);
		nlen = p[24];
		p += 25;
		if (nlen == 0 || nlen >= LS_MODEL_NAME_LEN || end - p < nlen)
			return "a model name has an invalid length";
		if (memchr(p, 0, nlen) != NULL || !pg_verifymbstr((const char *) p, nlen, true))
			return "a model name is not valid text";
		memcpy(m->name, p, nlen);
		p += nlen;
		if (m->count == 0 || (i > 0 && m->hash <= st->models[i - 1].hash))
			return "models are not strictly ascending by hash";
		if (m->first_seen != LS_NO_TIME &&
			(f->n_timed == 0 || m->first_seen < f->first_seen ||
			 m->first_seen > f->last_seen))
			return "a model's first-seen time is outside the fingerprint's time span";
		if (pg_add_u64_overflow(sum, m->count, &sum))
			return "model counts overflow";
	}
	if (sum > f->n_requests)
		return "model counts exceed the request count";
	if (p != end)
		return "input has trailing bytes";
	return NULL;
}
