/*
 * similarity.h
 *	  Channel similarities of two fingerprints, each in [0, 1] or
 *	  LS_UNDEFINED, and their combination: the geometric mean of what two
 *	  accounts ask (the work) and who sends it (the operator).  Pure code:
 *	  no fmgr.
 */
#ifndef LS_SIMILARITY_H
#define LS_SIMILARITY_H

#include "fingerprint.h"

typedef enum LsChannel
{
	LS_CH_CONTENT = 0,
	LS_CH_INTENTS,
	LS_CH_INFRA,
	LS_CH_COACTIVITY,
	LS_CH_HOURS,
	LS_CH_MODELS,
	LS_CH_CALENDAR,				/* last: 0.2.0's six weights still apply */
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

#define LS_HOURS8_LEN		176		/* the hours as bytes, to a multiple of 16 */

typedef struct LsPrepared
{
	const Fingerprint *fp;
	uint64		digest;			/* hash of the whole value; 0: not computed */
	bool		content_ready;	/* n_rec and rec are set */
	bool		hours_ready;	/* hours_bytes, hours8 and hours_norm2 are set */
	int			n_rec;			/* recurring scaffold keys */
	uint64		horizon;		/* ls_key_horizon of the sample */
	uint8		n_ip,
				n_ua,
				n_pay,
				n_act,
				n_day,
				n_models;
	bool		timed;			/* n_timed > 0 */
	bool		hours_bytes;		/* every hour bin below 2^8: hours8 holds them */
	/* the parts a comparison reads, next to each other */
	double		intent_rate[LS_N_INTENTS];
	uint32		ip[LS_K_IP];
	uint32		ua[LS_K_UA];
	uint32		pay[LS_K_PAY];
	uint32		act[LS_K_ACT];
	uint32		day[LS_K_DAY];
	int64		first_day;		/* of first and last seen, if timed */
	int64		last_day;
	bool		weekday_ready;	/* weekday to buckets are set (prepare_weekday) */
	double		weekday[7];		/* share of the requests on each UTC weekday, Monday first */
	int64		span[7];		/* days of each weekday from first to last day */
	double		day_rate[7];	/* chance of an active day on each weekday */
	double		days;			/* distinct active days, estimated */
	double		buckets;		/* distinct active 15-minute buckets, estimated */
	uint8		hours8[LS_HOURS8_LEN];	/* zero after the 168 hours */
	uint64		hours_norm2;		/* squared norm of the hours, if hours_bytes */
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
extern double ls_sim_content(const Fingerprint *a, const Fingerprint *b);
extern double ls_sim_intents(const Fingerprint *a, const Fingerprint *b);
extern double ls_sim_infrastructure(const Fingerprint *a, const Fingerprint *b);
extern double ls_sim_coactivity(const Fingerprint *a, const Fingerprint *b);
extern double ls_sim_hours(const Fingerprint *a, const Fingerprint *b);
extern double ls_sim_models(const Fingerprint *a, const Fingerprint *b);
extern double ls_sim_calendar(const Fingerprint *a, const Fingerprint *b);
extern void ls_similarity_parts(const Fingerprint *a, const Fingerprint *b, const double *weights,
								double *sims, double *sim, double *work, double *operator);
extern double ls_similarity(const Fingerprint *a, const Fingerprint *b, const double *weights);
extern bool ls_similarity_at_least(const Fingerprint *a, const Fingerprint *b,
								   const double *weights, double threshold, double *sim);

#endif							/* LS_SIMILARITY_H */
