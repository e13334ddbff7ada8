/*
 * fingerprint.h
 *	  The fingerprint: its format (which changes only with LS_VERSION), the
 *	  expanded state that aggregates update, and the operations on both.
 *
 * A fingerprint exists in three forms:
 *	- LsState: the expanded, fixed-capacity C struct that aggregates update
 *	  and merge (also the internal transition state of fingerprint_agg);
 *	- Fingerprint: the on-disk varlena, LsFixed followed by the used parts
 *	  of the scaffold-key and model arrays (native byte order);
 *	- the canonical wire form: big-endian, versioned, validated on read;
 *	  used by send/recv, by text I/O (base64 of it) and by the aggregate's
 *	  serialize/deserialize.
 *
 * sketch.h declares the updates and merges of states (sketch.c); format.h
 * the conversions between the forms (format.c).
 */
#ifndef LS_FINGERPRINT_H
#define LS_FINGERPRINT_H

#include "postgres.h"

#include "common/int.h"
#include "lexicon.h"

/*
 * Wire/disk format version, and the parameters it fixes.  Version 2 made
 * every part order-independent: the same rows give the same bytes in any
 * order, plan or merge tree (version 1 kept Misra-Gries counters).
 */
#define LS_VERSION			2
#define LS_MAX_KEYS			48	/* scaffold keys: the bottom-k by key */
#define LS_MAX_MODELS		8	/* models: the bottom-k by name hash */
#define LS_MODEL_NAME_LEN	24	/* bytes kept of a model name, with NUL */
#define LS_K_IP				16	/* bottom-k sizes of the infra sketches */
#define LS_K_UA				8
#define LS_K_PAY			8
#define LS_K_ACT			32	/* bottom-k of active 15-minute buckets */
#define LS_K_DAY			32	/* bottom-k of active days (UTC) */
#define LS_K_MAX			32	/* the largest of the bottom-k sizes */
#define LS_HOURS_OF_WEEK	168
#define LS_BUCKET_USECS		INT64CONST(900000000)	/* 15 minutes */
#define LS_HOUR_USECS		INT64CONST(3600000000)

/* A scaffold key and its exact count. */
typedef struct LsKeyCount
{
	uint32		key;
	uint32		count;
} LsKeyCount;

/* One model: identity is the hash of the full name. */
typedef struct LsModel
{
	uint64		hash;
	int64		first_seen;		/* TimestampTz, or LS_NO_TIME */
	uint64		count;
	char		name[LS_MODEL_NAME_LEN];
} LsModel;

#define LS_NO_TIME	PG_INT64_MAX

/* The fixed-size part; also the head of the on-disk varlena. */
typedef struct LsFixed
{
	int32		vl_len_;		/* varlena header, do not touch directly */
	uint8		version;
	uint8		n_keys;
	uint8		n_models;
	uint8		n_ip;
	uint8		n_ua;
	uint8		n_pay;
	uint8		n_act;
	uint8		n_day;
	uint64		n_requests;		/* rows aggregated */
	uint64		n_prompts;		/* rows with a non-NULL prompt */
	uint64		n_keyed;		/* prompts long enough to give keys */
	uint64		key_stream;		/* scaffold keys offered, kept or not */
	uint64		n_timed;		/* rows with a non-NULL timestamp */
	uint64		prompt_bytes;
	uint64		tokens_in;
	uint64		tokens_out;
	uint64		other_models;	/* requests to models beyond LS_MAX_MODELS */
	uint64		intents[LS_N_INTENTS];
	int64		first_seen;		/* LS_NO_TIME when n_timed = 0 */
	int64		last_seen;
	uint32		hours[LS_HOURS_OF_WEEK];	/* hour of week, UTC, Monday 00h = 0 */
	uint32		ip[LS_K_IP];	/* bottom-k sketches, ascending */
	uint32		ua[LS_K_UA];
	uint32		pay[LS_K_PAY];
	uint32		act[LS_K_ACT];
	uint32		day[LS_K_DAY];
} LsFixed;

/* The bottom-k sketches of hashes, as indexes into LsState's per-row caches. */
typedef enum LsSketch
{
	LS_SK_IP = 0,
	LS_SK_UA,
	LS_SK_PAY,
	LS_SK_ACT,
	LS_SK_DAY,
	LS_N_SKETCHES
} LsSketch;

/*
 * The expanded state: fixed part plus full-capacity arrays.  The head is a
 * per-row cache, never stored: for each bottom-k sketch the last hash seen
 * and the admission limit (its largest element once full), so that the
 * common row, whose network, agent, payment and time bucket are the last
 * row's or too large to enter, touches no sketch array at all.
 */
typedef struct LsState
{
	uint32		last[LS_N_SKETCHES];	/* valid where bit i of last_valid */
	uint32		limit[LS_N_SKETCHES];	/* a hash must be below to enter */
	uint8		last_valid;
	LsFixed		f;
	LsKeyCount	keys[LS_MAX_KEYS];	/* ascending by key */
	LsModel		models[LS_MAX_MODELS];	/* ascending by hash */
} LsState;

typedef LsFixed Fingerprint;

#define LS_FP_KEYS(fp) ((LsKeyCount *) ((char *) (fp) + sizeof(LsFixed)))
#define LS_FP_MODELS(fp) \
	((LsModel *) ((char *) (fp) + sizeof(LsFixed) + (fp)->n_keys * sizeof(LsKeyCount)))
#define LS_FP_SIZE(nk, nm) \
	(sizeof(LsFixed) + (nk) * sizeof(LsKeyCount) + (nm) * sizeof(LsModel))
/* Longest wire form: used to reject oversized input before parsing. */
#define LS_WIRE_MAX		4096

/*
 * Add a to *dst, raising an error past the largest bigint: SQL reports
 * every counter as one.
 */
static inline void
ls_add_u64(uint64 *dst, uint64 a)
{
	if (unlikely(pg_add_u64_overflow(*dst, a, dst) || *dst > (uint64) PG_INT64_MAX))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("fingerprint counter overflow")));
}

/* Add a to *dst, raising an error on overflow. */
static inline void
ls_add_u32(uint32 *dst, uint32 a)
{
	if (unlikely(pg_add_u32_overflow(*dst, a, dst)))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("fingerprint counter overflow")));
}

/* Floor of a / b for b > 0, also for negative a (times before 2000). */
static inline int64
ls_floor_div(int64 a, int64 b)
{
	return a / b - (a % b < 0);
}

/* Hour of the week of a timestamp, UTC, Monday 00:00 = 0. */
static inline int
ls_hour_of_week(int64 ts)
{
	int64		hours = ls_floor_div(ts, LS_HOUR_USECS);

	/* 2000-01-01, the PostgreSQL epoch, was a Saturday: hour 5 * 24 */
	return (int) (((hours + 5 * 24) % LS_HOURS_OF_WEEK + LS_HOURS_OF_WEEK) %
				  LS_HOURS_OF_WEEK);
}

/* The key a bottom-k sketch keeps of a 64-bit hash: its high 32 bits. */
static inline uint32
ls_sketch_key(uint64 hash)
{
	return (uint32) (hash >> 32);
}

/*
 * The scaffold keys kept are the LS_MAX_KEYS smallest of all the keys an
 * account's prompts gave, each with its exact count: a uniform sample of
 * the distinct keys, the same sample whatever the order or merge tree,
 * and consistent across accounts (a key small enough for both samples is
 * in both).  The horizon is the largest key the sample speaks for: a key
 * above it may have been seen and dropped.
 */
static inline uint64
ls_key_horizon(const LsKeyCount *keys, int n_keys)
{
	return n_keys == LS_MAX_KEYS ? keys[n_keys - 1].key : PG_UINT64_MAX;
}

/*
 * A recurring scaffold key: seen in at least two prompts' keys.  Content
 * similarity and the content LSH keys compare only these.
 */
static inline bool
ls_key_recurs(const LsKeyCount *k)
{
	return k->count >= 2;
}

#endif							/* LS_FINGERPRINT_H */
