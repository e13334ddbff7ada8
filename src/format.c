/*
 * format.c
 *	  The fingerprint's stored and wire forms: packing the expanded state
 *	  into the on-disk varlena and back, and the canonical big-endian wire
 *	  form with its validating reader.
 *
 * Pure code: no fmgr.
 */
#include "format.h"
#include "prompt.h"
#include "sketch.h"

#include "datatype/timestamp.h"
#include "mb/pg_wchar.h"

/* The on-disk varlena of a state, palloc'd in the current context. */
Fingerprint *
ls_state_pack(const LsState *st)
{
	Size		size = LS_FP_SIZE(st->f.n_keys, st->f.n_models);
	Fingerprint *fp = palloc0(size);

	memcpy(fp, &st->f, sizeof(LsFixed));
	SET_VARSIZE(fp, size);
	memcpy(LS_FP_KEYS(fp), st->keys, st->f.n_keys * sizeof(LsKeyCount));
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
	ls_state_refresh(st);
}

/*
 * The canonical wire form.  Layout (big-endian):
 *	8 bytes		version, n_keys, n_models, n_ip, n_ua, n_pay, n_act, n_day
 *	15 x u64	n_requests, n_prompts, n_keyed, key_stream, n_timed,
 *				prompt_bytes, tokens_in, tokens_out, other_models, intents[6]
 *	2 x i64		first_seen, last_seen
 *	168 x u32	hour-of-week histogram
 *	u32 each	ip[n_ip], ua[n_ua], pay[n_pay], act[n_act], day[n_day]
 *	n_keys x	u32 key, u32 count (ascending key)
 *	n_models x	u64 hash, i64 first_seen, u64 count, u8 len, len bytes of name
 */
#define WIRE_HEAD	(8 + 15 * 8 + 2 * 8 + LS_HOURS_OF_WEEK * 4)

/* Size of the wire form of st. */
Size
ls_wire_size(const LsState *st)
{
	Size		size = WIRE_HEAD;

	size += 4 * (st->f.n_ip + st->f.n_ua + st->f.n_pay + st->f.n_act + st->f.n_day);
	size += 8 * st->f.n_keys;
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
	const LsFixed *f = &st->f;

	*p++ = f->version;
	*p++ = f->n_keys;
	*p++ = f->n_models;
	*p++ = f->n_ip;
	*p++ = f->n_ua;
	*p++ = f->n_pay;
	*p++ = f->n_act;
	*p++ = f->n_day;
	wire_u64_fields((LsFixed *) f, fields);
	for (int i = 0; i < N_WIRE_U64; i++)
		p = put_u64(p, *fields[i]);
	p = put_u64(p, (uint64) f->first_seen);
	p = put_u64(p, (uint64) f->last_seen);
	for (int i = 0; i < LS_HOURS_OF_WEEK; i++)
		p = put_u32(p, f->hours[i]);
	for (int i = 0; i < f->n_ip; i++)
		p = put_u32(p, f->ip[i]);
	for (int i = 0; i < f->n_ua; i++)
		p = put_u32(p, f->ua[i]);
	for (int i = 0; i < f->n_pay; i++)
		p = put_u32(p, f->pay[i]);
	for (int i = 0; i < f->n_act; i++)
		p = put_u32(p, f->act[i]);
	for (int i = 0; i < f->n_day; i++)
		p = put_u32(p, f->day[i]);
	for (int i = 0; i < f->n_keys; i++)
	{
		p = put_u32(p, st->keys[i].key);
		p = put_u32(p, st->keys[i].count);
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
 * The time fields of a fingerprint agree with each other as the aggregate
 * leaves them: finite first and last seen in timestamp range, the hour
 * bins of both non-empty, no non-empty bin outside the span they cover,
 * no more active 15-minute buckets than the span has.  NULL if they do.
 */
static const char *
check_times(const LsFixed *f)
{
	int64		span;
	int64		nbins;
	bool		covered[LS_HOURS_OF_WEEK] = {0};

	if (f->n_timed == 0)
		return (f->first_seen != 0 || f->last_seen != 0 || f->n_act != 0 || f->n_day != 0) ?
			"first and last seen times of an untimed fingerprint" : NULL;
	if (!IS_VALID_TIMESTAMP(f->first_seen) || !IS_VALID_TIMESTAMP(f->last_seen) ||
		f->first_seen > f->last_seen || f->n_act == 0 || f->n_day == 0)
		return "first and last seen times are inconsistent";
	/* an active day has an active bucket; the exact bucket count bounds them */
	if (f->n_act < LS_K_ACT && f->n_day > f->n_act)
		return "more active days than active 15-minute buckets";
	if ((f->last_seen - f->first_seen) / USECS_PER_DAY + 2 < f->n_day)
		return "more active days than the time span holds";
	if (f->hours[ls_hour_of_week(f->first_seen)] == 0 ||
		f->hours[ls_hour_of_week(f->last_seen)] == 0)
		return "the hour bins of the first and last seen times are empty";
	span = f->last_seen - f->first_seen;
	if (span / LS_BUCKET_USECS + 2 < f->n_act)
		return "more active 15-minute buckets than the time span holds";
	/* the clock hours from first to last seen, if fewer than a week's bins */
	nbins = ls_floor_div(f->last_seen, LS_HOUR_USECS) - ls_floor_div(f->first_seen, LS_HOUR_USECS) + 1;
	if (nbins < LS_HOURS_OF_WEEK)
	{
		int			h = ls_hour_of_week(f->first_seen);

		for (int64 i = 0; i < nbins; i++)
			covered[(h + i) % LS_HOURS_OF_WEEK] = true;
		for (int i = 0; i < LS_HOURS_OF_WEEK; i++)
			if (f->hours[i] > 0 && !covered[i])
				return "an hour bin outside the first and last seen times is not empty";
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
		buf[4] > LS_K_UA || buf[5] > LS_K_PAY || buf[6] > LS_K_ACT || buf[7] > LS_K_DAY)
		return "a sketch length exceeds its capacity";
	f->n_keys = buf[1];
	f->n_models = buf[2];
	f->n_ip = buf[3];
	f->n_ua = buf[4];
	f->n_pay = buf[5];
	f->n_act = buf[6];
	f->n_day = buf[7];
	need = WIRE_HEAD + 4 * (f->n_ip + f->n_ua + f->n_pay + f->n_act + f->n_day) +
		8 * f->n_keys + 25 * f->n_models;
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
		f->hours[i] = get_u32(p);
		sum += f->hours[i];
	}
	if (sum != f->n_timed)
		return "hour-of-week histogram does not sum to the timed request count";
	if ((err = read_bottomk(&p, f->ip, f->n_ip, "IP")) ||
		(err = read_bottomk(&p, f->ua, f->n_ua, "user agent")) ||
		(err = read_bottomk(&p, f->pay, f->n_pay, "payment")) ||
		(err = read_bottomk(&p, f->act, f->n_act, "activity")) ||
		(err = read_bottomk(&p, f->day, f->n_day, "day")))
		return err;

	/* SQL reports every counter as a bigint: a larger one would read back negative */
	if (f->n_requests > PG_INT64_MAX || f->key_stream > PG_INT64_MAX ||
		f->prompt_bytes > PG_INT64_MAX || f->tokens_in > PG_INT64_MAX ||
		f->tokens_out > PG_INT64_MAX || f->other_models > PG_INT64_MAX)
		return "a counter exceeds the largest bigint";
	if (f->n_prompts > f->n_requests || f->n_timed > f->n_requests ||
		f->n_keyed > f->n_prompts)
		return "request counts are inconsistent";
	for (int i = 0; i < LS_N_INTENTS; i++)
		if (f->intents[i] > f->n_prompts)
			return "an intent count exceeds the prompt count";
	/* each keyed prompt offers 1 to LS_KEYS_PER_PROMPT keys */
	if (f->key_stream < f->n_keyed ||
		pg_mul_u64_overflow(f->n_keyed, LS_KEYS_PER_PROMPT, &sum) || f->key_stream > sum)
		return "scaffold key count is inconsistent with the keyed prompt count";
	if ((err = check_times(f)) != NULL)
		return err;
	if ((f->n_ip > 0 || f->n_ua > 0 || f->n_pay > 0) && f->n_requests == 0)
		return "infrastructure sketch of an empty fingerprint";

	sum = 0;
	for (int i = 0; i < f->n_keys; i++, p += 8)
	{
		st->keys[i].key = get_u32(p);
		st->keys[i].count = get_u32(p + 4);
		if (st->keys[i].count == 0 || st->keys[i].count > f->key_stream)
			return "a scaffold key count is out of range";
		if (i > 0 && st->keys[i].key <= st->keys[i - 1].key)
			return "scaffold keys are not strictly ascending";
		sum += st->keys[i].count;
	}
	/* a sample with room to spare dropped nothing */
	if (sum > f->key_stream || (f->n_keys < LS_MAX_KEYS && sum != f->key_stream))
		return "scaffold key counts do not add up to the key stream";
	ls_state_refresh(st);

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
		if (m->first_seen == LS_NO_TIME && f->n_timed == f->n_requests)
			return "a model has no first-seen time although every request is timed";
		if (pg_add_u64_overflow(sum, m->count, &sum))
			return "model counts overflow";
	}
	if (sum > f->n_requests)
		return "model counts exceed the request count";
	if (f->other_models > 0 && f->n_models < LS_MAX_MODELS)
		return "requests to other models, but room for more models";
	if (p != end)
		return "input has trailing bytes";
	return NULL;
}
