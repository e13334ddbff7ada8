/*
 * blind.c
 *	  fingerprint_blind: a keyed form of a fingerprint, which holders of the
 *	  same key can compare with each other and no one else can read.
 *
 * Every hashed feature of a fingerprint (scaffold keys, the network, user
 * agent and payment sketches, model identities) is replaced by a keyed
 * hash of it, HMAC-SHA-256 (PostgreSQL's common/hmac.h) of a one-byte
 * domain and the feature's 64-bit value, truncated to the feature's width.
 * Model names give way to the blinded identity in hex.  Nothing else
 * changes: counters, intents, the hour histogram and the time sketches
 * (active 15-minute buckets and days, which are hashes of times anyone
 * can enumerate) stay as they are; README, "Sharing", says what they
 * reveal.
 *
 * A bijection of the values keeps every set operation between two
 * fingerprints blinded under one key: equal values stay equal, different
 * ones stay different (but for a truncation collision, 2^-32 a pair of
 * values).  A bottom-k sketch, though, keeps the k smallest values, and
 * the keyed values order differently: where a sketch holds all of an
 * account's values (fewer than k) the blinded sketch holds all of them
 * too and every similarity is exactly the plain one; where it is full,
 * the blinded sketch is the same sample re-sorted, whose largest element
 * is no longer the horizon below which the sample is complete.  Those
 * channels then differ from the plain ones by the sample's own error
 * (test/sql/blind.sql measures it on a generated log; README states the
 * bound).
 */
#include "fingerprint.h"
#include "format.h"
#include "hashing.h"
#include "sqlapi.h"

#include "common/cryptohash.h"
#include "common/hmac.h"
#include "common/sha2.h"
#include "fmgr.h"
#include "port/pg_bswap.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(fingerprint_blind);
PG_FUNCTION_INFO_V1(lockstep_model_hash_blind);
PG_FUNCTION_INFO_V1(lockstep_blind_id);

/* The shortest key accepted: 128 bits. */
#define BLIND_MIN_KEY	16

/* Domains of the keyed hash: the same value in two features maps apart. */
typedef enum BlindDomain
{
	BLIND_KEY = 'k',
	BLIND_IP = 'i',
	BLIND_UA = 'u',
	BLIND_PAY = 'p',
	BLIND_MODEL = 'm',
	BLIND_ACCOUNT = 'a'
} BlindDomain;

typedef struct Blinder
{
	pg_hmac_ctx *ctx;
	const uint8 *key;
	size_t		keylen;
} Blinder;

static void
blinder_init(Blinder *b, bytea *key)
{
	b->keylen = VARSIZE_ANY_EXHDR(key);
	b->key = (const uint8 *) VARDATA_ANY(key);
	if (b->keylen < BLIND_MIN_KEY)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a blinding key must be at least %d bytes", BLIND_MIN_KEY),
				 errdetail("The key is %zu bytes.", b->keylen),
				 errhint("Use gen_random_bytes(32) of pgcrypto, or 32 random bytes shared out of band.")));
	b->ctx = pg_hmac_create(PG_SHA256);
	if (b->ctx == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
}

/* The keyed 64-bit value of one feature. */
static uint64
blind_u64(Blinder *b, BlindDomain domain, uint64 value)
{
	uint8		msg[9];
	uint8		out[PG_SHA256_DIGEST_LENGTH];
	uint64		v = pg_hton64(value);
	uint64		r;

	msg[0] = (uint8) domain;
	memcpy(msg + 1, &v, sizeof(v));
	if (pg_hmac_init(b->ctx, b->key, b->keylen) < 0 ||
		pg_hmac_update(b->ctx, msg, sizeof(msg)) < 0 ||
		pg_hmac_final(b->ctx, out, sizeof(out)) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute HMAC: %s", pg_hmac_error(b->ctx))));
	memcpy(&r, out, sizeof(r));
	return pg_ntoh64(r);
}

static int
cmp_u32(const uint32 *a, const uint32 *b)
{
	return (*a > *b) - (*a < *b);
}

#define ST_SORT sort_u32
#define ST_ELEMENT_TYPE uint32
#define ST_COMPARE(a, b) cmp_u32(a, b)
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/* Blind a bottom-k sketch in place: keyed, ascending, duplicate-free. */
static void
blind_sketch(Blinder *b, BlindDomain domain, uint32 *arr, uint8 *n)
{
	int			m = 0;

	for (int i = 0; i < *n; i++)
		arr[i] = ls_sketch_key(blind_u64(b, domain, arr[i]));
	sort_u32(arr, *n);
	for (int i = 0; i < *n; i++)
		if (m == 0 || arr[i] != arr[m - 1])
			arr[m++] = arr[i];
	*n = (uint8) m;
}

static int
cmp_key(const LsKeyCount *a, const LsKeyCount *b)
{
	return (a->key > b->key) - (a->key < b->key);
}

#define ST_SORT sort_keys
#define ST_ELEMENT_TYPE LsKeyCount
#define ST_COMPARE(a, b) cmp_key(a, b)
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/* Blind the scaffold keys: a collision (2^-32 a pair) adds the counts. */
static void
blind_keys(Blinder *b, LsState *st)
{
	int			m = 0;

	for (int i = 0; i < st->f.n_keys; i++)
		st->keys[i].key = ls_sketch_key(blind_u64(b, BLIND_KEY, st->keys[i].key));
	sort_keys(st->keys, st->f.n_keys);
	for (int i = 0; i < st->f.n_keys; i++)
	{
		if (m > 0 && st->keys[i].key == st->keys[m - 1].key)
			ls_add_u32(&st->keys[m - 1].count, st->keys[i].count);
		else
			st->keys[m++] = st->keys[i];
	}
	st->f.n_keys = (uint8) m;
}

static int
cmp_model(const LsModel *a, const LsModel *b)
{
	return (a->hash > b->hash) - (a->hash < b->hash);
}

#define ST_SORT sort_models
#define ST_ELEMENT_TYPE LsModel
#define ST_COMPARE(a, b) cmp_model(a, b)
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/* Blind the models: identities keyed, names the keyed identity in hex. */
static void
blind_models(Blinder *b, LsState *st)
{
	int			m = 0;

	for (int i = 0; i < st->f.n_models; i++)
		st->models[i].hash = blind_u64(b, BLIND_MODEL, st->models[i].hash);
	sort_models(st->models, st->f.n_models);
	for (int i = 0; i < st->f.n_models; i++)
	{
		if (m > 0 && st->models[i].hash == st->models[m - 1].hash)
		{
			LsModel    *d = &st->models[m - 1];

			ls_add_u64(&d->count, st->models[i].count);
			d->first_seen = Min(d->first_seen, st->models[i].first_seen);
		}
		else
			st->models[m++] = st->models[i];
	}
	st->f.n_models = (uint8) m;
	for (int i = 0; i < m; i++)
	{
		memset(st->models[i].name, 0, LS_MODEL_NAME_LEN);
		snprintf(st->models[i].name, LS_MODEL_NAME_LEN, "#%016" INT64_MODIFIER "x",
				 st->models[i].hash);
	}
}

/*
 * fingerprint_blind(fp, key bytea) -> fingerprint: the keyed form.  Its
 * fingerprints compare with others blinded under the same key; under
 * another key, or against a plain one, their hashed channels share
 * nothing.
 */
Datum
fingerprint_blind(PG_FUNCTION_ARGS)
{
	Fingerprint *fp = ls_fp_arg(fcinfo, 0);
	Blinder		b;
	LsState		st;

	blinder_init(&b, PG_GETARG_BYTEA_PP(1));
	ls_state_unpack(fp, &st);
	blind_keys(&b, &st);
	blind_sketch(&b, BLIND_IP, st.f.ip, &st.f.n_ip);
	blind_sketch(&b, BLIND_UA, st.f.ua, &st.f.n_ua);
	blind_sketch(&b, BLIND_PAY, st.f.pay, &st.f.n_pay);
	blind_models(&b, &st);
	pg_hmac_free(b.ctx);
	PG_RETURN_FINGERPRINT_P(ls_state_pack(&st));
}

/*
 * lockstep_model_hash(name, key) -> bigint: a model's identity in
 * fingerprints blinded under the key, for a release table in the same
 * form.
 */
Datum
lockstep_model_hash_blind(PG_FUNCTION_ARGS)
{
	text	   *name = PG_GETARG_TEXT_PP(0);
	Blinder		b;
	uint64		h;

	blinder_init(&b, PG_GETARG_BYTEA_PP(1));
	h = blind_u64(&b, BLIND_MODEL, ls_model_hash(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name)));
	pg_hmac_free(b.ctx);
	PG_RETURN_INT64((int64) h);
}

/*
 * lockstep_blind_id(id, key) -> bigint: an account's reference in an
 * exchange of fingerprints blinded under the key.  Its exporter finds its
 * account again by computing it; the other side learns nothing of the id
 * but what a guess of it, blinded under the same key, confirms.
 */
Datum
lockstep_blind_id(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	Blinder		b;
	uint64		h;

	blinder_init(&b, PG_GETARG_BYTEA_PP(1));
	h = blind_u64(&b, BLIND_ACCOUNT, (uint64) id);
	pg_hmac_free(b.ctx);
	PG_RETURN_INT64((int64) h);
}
