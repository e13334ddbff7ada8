/*
 * lockstep.h
 *	  Shared definitions: the fingerprint layout, its parameters and the
 *	  pure sketch, normalizer and lexicon interfaces.
 *
 * A fingerprint exists in three forms:
 *	- LsState: the expanded, fixed-capacity C struct that aggregates update
 *	  and merge (also the internal transition state of fingerprint_agg);
 *	- Fingerprint: the on-disk varlena, LsFixed followed by the used parts
 *	  of the scaffold-key and model arrays (native byte order);
 *	- the canonical wire form: big-endian, versioned, validated on read;
 *	  used by send/recv, by text I/O (base64 of it) and by the aggregate's
 *	  serialize/deserialize.
 */
#ifndef LOCKSTEP_H
#define LOCKSTEP_H

#include "postgres.h"

#include "common/int.h"
#include "fmgr.h"
#include "utils/portal.h"

/* Wire/disk format version, and the parameters it fixes. */
#define LS_VERSION			1
#define LS_MAX_KEYS			32	/* Misra-Gries counters for scaffold keys */
#define LS_MAX_MODELS		8	/* models tracked with first-seen time */
#define LS_MODEL_NAME_LEN	24	/* bytes kept of a model name, with NUL */
#define LS_K_IP				16	/* bottom-k sizes of the infra sketches */
#define LS_K_UA				8
#define LS_K_PAY			8
#define LS_K_ACT			32	/* bottom-k of active 15-minute buckets */
#define LS_HOURS_OF_WEEK	168
#define LS_BUCKET_USECS		INT64CONST(900000000)	/* 15 minutes */
#define LS_HOUR_USECS		INT64CONST(3600000000)

/*
 * Content keying: one-permutation MinHash of a prompt's shingles into
 * LS_KEYS_PER_PROMPT bins (by the top bits of the hash); a bin's minimum
 * is the same for every prompt built on one scaffold with probability
 * about the shingle Jaccard of the prompts, so a scaffold shows up as a
 * recurring key.  Few keys a prompt keep the Misra-Gries stream short
 * (its error bound is stream / (LS_MAX_KEYS + 1)).
 */
#define LS_SHINGLE			3	/* tokens per shingle */
#define LS_KEY_BIN_BITS		1
#define LS_KEYS_PER_PROMPT	(1 << LS_KEY_BIN_BITS)
#define LS_MIN_TOKENS		6	/* shorter prompts give no scaffold keys */

/* Elicitation intents, in the order of the counters and of the lexicon. */
typedef enum LsIntent
{
	LS_INTENT_COT = 0,			/* chain-of-thought elicitation */
	LS_INTENT_RUBRIC,			/* rubric / reward-model grading */
	LS_INTENT_TOOL,				/* tool-use schemas, agentic traces */
	LS_INTENT_CODE,				/* code generation, code fences */
	LS_INTENT_REWRITE,			/* "safe" rewrites of sensitive asks */
	LS_INTENT_VISION,			/* vision and computer use */
	LS_N_INTENTS
} LsIntent;

extern const char *const ls_intent_names[LS_N_INTENTS];

/* One heavy-hitter counter: a scaffold key and its (under-)count. */
typedef struct LsKeyCount
{
	uint64		key;
	uint64		count;
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
	uint8		pad;			/* always zero */
	uint64		n_requests;		/* rows aggregated */
	uint64		n_prompts;		/* rows with a non-NULL prompt */
	uint64		n_keyed;		/* prompts long enough to give keys */
	uint64		key_stream;		/* keys offered to the heavy-hitter counters */
	uint64		n_timed;		/* rows with a non-NULL timestamp */
	uint64		prompt_bytes;
	uint64		tokens_in;
	uint64		tokens_out;
	uint64		other_models;	/* requests to models beyond LS_MAX_MODELS */
	uint64		intents[LS_N_INTENTS];
	int64		first_seen;		/* LS_NO_TIME when n_timed = 0 */
	int64		last_seen;
	uint32		how[LS_HOURS_OF_WEEK];	/* hour of week, UTC, Monday 00h = 0 */
	uint32		ip[LS_K_IP];	/* bottom-k sketches, ascending */
	uint32		ua[LS_K_UA];
	uint32		pay[LS_K_PAY];
	uint32		act[LS_K_ACT];
} LsFixed;

/* The four bottom-k sketches, as indexes into LsState's per-row caches. */
typedef enum LsSketch
{
	LS_SK_IP = 0,
	LS_SK_UA,
	LS_SK_PAY,
	LS_SK_ACT,
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
	LsKeyCount	keys[LS_MAX_KEYS];	/* any order; packed sorted by key */
	LsModel		models[LS_MAX_MODELS];	/* sorted by hash */
	uint8		tags[LS_MAX_KEYS];	/* top 8 bits of each key: half a cache
									 * line to scan instead of eight lines */
} LsState;

typedef LsFixed Fingerprint;

#define DatumGetFingerprintP(X)	((Fingerprint *) PG_DETOAST_DATUM(X))
#define PG_GETARG_FINGERPRINT_P(n) DatumGetFingerprintP(PG_GETARG_DATUM(n))
#define PG_RETURN_FINGERPRINT_P(x) PG_RETURN_POINTER(x)

#define LS_FP_KEYS(fp) ((LsKeyCount *) ((char *) (fp) + sizeof(LsFixed)))
#define LS_FP_MODELS(fp) \
	((LsModel *) ((char *) (fp) + sizeof(LsFixed) + (fp)->n_keys * sizeof(LsKeyCount)))
#define LS_FP_SIZE(nk, nm) \
	(sizeof(LsFixed) + (nk) * sizeof(LsKeyCount) + (nm) * sizeof(LsModel))
/* Longest wire form: used to reject oversized input before parsing. */
#define LS_WIRE_MAX		4096

/* What one prompt contributes, computed by ls_analyze_prompt. */
typedef struct LsPromptInfo
{
	int			n_keys;
	uint64		keys[LS_KEYS_PER_PROMPT];	/* one a non-empty bin */
	uint32		intents;		/* bit i set: intent i present */
} LsPromptInfo;

/* Add a to *dst, raising an error on overflow. */
static inline void
ls_add_u64(uint64 *dst, uint64 a)
{
	if (unlikely(pg_add_u64_overflow(*dst, a, dst)))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("fingerprint counter overflow")));
}

/* normalize.c: the tokenizer shared by prompt_template and the aggregate */
#define LS_TOKEN_MAX	48		/* longer words are masked as <blob> */

typedef struct LsTokenizer
{
	const unsigned char *p;
	const unsigned char *end;
	bool		space_before;	/* whitespace separated it from the last */
	bool		may_email;		/* the text contains an '@' */
	bool		text;			/* keep the token text in buf, not only its hash */
	int			len;
	uint64		hash;			/* of the normalized text */
	char		buf[LS_TOKEN_MAX * 2 + 8];	/* normalized token text, if text */
} LsTokenizer;

extern void ls_tokenizer_init(LsTokenizer *t, const char *s, int len, bool text);
extern bool ls_next_token(LsTokenizer *t);

/* lexicon.c: prompt analysis (keys and intents) */
extern void ls_analyze_prompt(const char *s, int len, LsPromptInfo *info);
extern int	ls_lexicon_size(void);
extern void ls_lexicon_entry(int i, const char **intent, const char **phrase);

/* Hour of the week of a timestamp, UTC, Monday 00:00 = 0. */
static inline int
ls_how_index(int64 ts)
{
	int64		hours = ts / LS_HOUR_USECS - (ts % LS_HOUR_USECS < 0);

	/* 2000-01-01, the PostgreSQL epoch, was a Saturday: hour 5 * 24 */
	return (int) (((hours + 5 * 24) % LS_HOURS_OF_WEEK + LS_HOURS_OF_WEEK) %
				  LS_HOURS_OF_WEEK);
}

/* sketch.c: pure state operations */
extern void ls_state_init(LsState *st);
extern void ls_state_prefetch(const LsState *st, int how);
extern void ls_state_add_time(LsState *st, int64 ts, int how);
extern void ls_state_add_prompt(LsState *st, const LsPromptInfo *info, int nbytes);
extern void ls_state_add_sketch(LsState *st, LsSketch which, uint64 hash);
extern void ls_state_add_model(LsState *st, const char *name, int len, int64 ts);
extern void ls_state_merge(LsState *dst, const LsState *src);
extern int	ls_cmp_key_count_desc(const void *a, const void *b);
extern Fingerprint *ls_state_pack(const LsState *st);
extern void ls_check_version(const Fingerprint *fp);
extern void ls_state_unpack(const Fingerprint *fp, LsState *st);
extern Size ls_wire_size(const LsState *st);
extern Size ls_wire_write(const LsState *st, unsigned char *buf);
extern const char *ls_wire_read(const unsigned char *buf, Size len, LsState *st);
extern double ls_kmv_distinct(const uint32 *arr, int n, int k);

/* similarity.c: channel similarities, each in [0, 1] or LS_UNDEFINED */
typedef enum LsChannel
{
	LS_CH_CONTENT = 0,
	LS_CH_INTENTS,
	LS_CH_INFRA,
	LS_CH_COACTIVITY,
	LS_CH_HOURS,
	LS_CH_MODELS,
	LS_N_CHANNELS
} LsChannel;

#define LS_UNDEFINED	(-1.0)	/* the channel is empty on both sides */

extern const char *const ls_channel_names[LS_N_CHANNELS];
extern const double ls_default_weights[LS_N_CHANNELS];

/*
 * A fingerprint with what every comparison of it needs worked out once
 * and laid out in few cache lines: its recurring scaffold keys with their
 * traffic shares, its intent rates, sketches and models, and its
 * hour-of-week profile in bytes when every bin fits one (the usual
 * account) with its squared norm.  A join prepares each fingerprint once
 * for all of its rechecks (ls_prepare_all); a single comparison prepares
 * both sides lazily (ls_prepare).
 */
typedef struct LsShare
{
	uint64		key;
	double		share;
} LsShare;

typedef struct LsModelTime
{
	uint64		hash;
	int64		first_seen;
} LsModelTime;

#define LS_HOW8_LEN		176		/* the hours as bytes, to a multiple of 16 */

typedef struct LsPrepared
{
	const Fingerprint *fp;
	uint64		digest;			/* hash of the whole value; 0: not computed */
	bool		content_ready;	/* n_rec and rec are set */
	bool		hours_ready;	/* how_bytes, how8 and how_norm2 are set */
	int			n_rec;			/* recurring scaffold keys */
	uint8		n_ip,
				n_ua,
				n_pay,
				n_act,
				n_models;
	bool		timed;			/* n_timed > 0 */
	bool		how_bytes;		/* every hour bin below 2^8: how8 holds them */
	/* the parts a comparison reads, next to each other */
	double		intent_rate[LS_N_INTENTS];
	uint32		ip[LS_K_IP];
	uint32		ua[LS_K_UA];
	uint32		pay[LS_K_PAY];
	uint32		act[LS_K_ACT];
	uint8		how8[LS_HOW8_LEN];	/* zero after the 168 hours */
	uint64		how_norm2;		/* squared norm of the hours, if how_bytes */
	LsModelTime models[LS_MAX_MODELS];
	LsShare		rec[LS_MAX_KEYS];	/* ascending by key */
} LsPrepared;

/*
 * Ask for the cache lines a comparison with p reads, ahead of it: a join
 * knows its next candidates, the processor does not.
 */
static inline void
ls_prepared_prefetch(const LsPrepared *p)
{
	const char *c = (const char *) p;

	for (Size o = 0; o < offsetof(LsPrepared, rec) + 2 * 64; o += 64)
		__builtin_prefetch(c + o);
}

extern void ls_prepare(const Fingerprint *fp, LsPrepared *p);
extern void ls_prepare_all(const Fingerprint *fp, LsPrepared *p);
extern bool ls_prepared_at_least(LsPrepared *a, LsPrepared *b,
								 const double *weights, double threshold, double *sim);
extern uint64 ls_key_bound(const Fingerprint *fp);
extern double ls_sim_content(const Fingerprint *a, const Fingerprint *b);
extern double ls_sim_intents(const Fingerprint *a, const Fingerprint *b);
extern double ls_sim_infra(const Fingerprint *a, const Fingerprint *b);
extern double ls_sim_coactivity(const Fingerprint *a, const Fingerprint *b);
extern double ls_sim_hours(const Fingerprint *a, const Fingerprint *b);
extern double ls_sim_models(const Fingerprint *a, const Fingerprint *b);
extern void ls_channel_sims(const Fingerprint *a, const Fingerprint *b, double *sims);
extern double ls_similarity(const Fingerprint *a, const Fingerprint *b, const double *weights);
extern bool ls_similarity_at_least(const Fingerprint *a, const Fingerprint *b,
								   const double *weights, double threshold, double *sim);

/* lsh.c: banded MinHash keys of the discriminative channels */
#define LS_LSH_CHANNELS		4	/* content, co-activity, networks, payment */
#define LS_LSH_MAX_BANDS	64
#define LS_LSH_MAX_ROWS		8
#define LS_LSH_MAX_SIGNATURE 128	/* bands x rows, per channel */
#define LS_LSH_BANDS		16	/* defaults, also those of the GIN opclass */
#define LS_LSH_ROWS			2
#define LS_LSH_MAX_KEYS		(LS_LSH_CHANNELS * LS_LSH_MAX_BANDS)

extern void ls_lsh_check(int bands, int rows);
extern int	ls_lsh_keys(const Fingerprint *fp, int bands, int rows, uint64 *keys);

/* pairs.c: LSH candidate pairs of a query's fingerprints, in memory */
#define LS_MIN_SHARED_KEYS	4	/* keys a candidate pair must share */
typedef struct LsEntry LsEntry;

/* Account j as a candidate of the current account i. */
typedef struct LsSeen
{
	int32		mark;			/* == i: j is already a candidate of i */
	int32		hits;			/* keys j shares with i */
} LsSeen;

typedef struct LsPairIndex
{
	const char *caller;			/* names the SQL function in errors */
	Size		used;			/* bytes charged to lockstep.pairs_memory_limit */
	int			n;				/* fingerprints */
	int64	   *ids;
	LsPrepared *fps;			/* the fingerprints, prepared */
	int32	   *member;			/* account of each key entry, in bucket order */
	int64		nentries;
	int64	   *first;			/* CSR: positions of account i's entries */
	int64	   *pos;
	int64	   *bstart;			/* bucket of each sorted entry: [bstart, bend) */
	int64	   *bend;
	LsSeen	   *seen;			/* per account j, for the current account */
	int			min_shared;		/* candidates must share this many keys */
	int32	   *cand;			/* the candidates of the current account */
	int64		candidates;		/* statistics for DEBUG1 */
	int64		split;			/* buckets split into parts */
	int64		largest;
} LsPairIndex;

extern Oid	ls_fingerprint_type_oid(FunctionCallInfo fcinfo);
extern Portal ls_query_open(const char *query);
extern void ls_memory_charge(Size *used, Size more, const char *caller);
extern void ls_check_threshold(const char *name, double value);
extern double ls_query_threshold_args(FunctionCallInfo fcinfo, const char *caller);
extern void ls_pairs_build(LsPairIndex *ix, FunctionCallInfo fcinfo, const char *query,
						   int bands, int rows, int max_bucket);
extern int	ls_pairs_candidates(LsPairIndex *ix, int i, bool later_only);
extern void ls_pairs_restart(LsPairIndex *ix);

/* operators.c: shared by the fmgr files */
extern double ls_similarity_threshold;
extern int	ls_pairs_memory_limit;
extern void ls_define_gucs(void);
extern Fingerprint *ls_fp_arg(FunctionCallInfo fcinfo, int n);

#endif							/* LOCKSTEP_H */
