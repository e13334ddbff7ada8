/*
 * operators.c
 *	  Similarity functions, the % and <-> operators, and LSH keys.
 */
#include "lockstep.h"
#include "lsh.h"
#include "similarity.h"
#include "sqlapi.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include <limits.h>
#include <math.h>

PG_FUNCTION_INFO_V1(fingerprint_similarity);
PG_FUNCTION_INFO_V1(fingerprint_similarity_weighted);
PG_FUNCTION_INFO_V1(fingerprint_similarity_detail);
PG_FUNCTION_INFO_V1(fingerprint_similarity_parts);
PG_FUNCTION_INFO_V1(fingerprint_content_similarity);
PG_FUNCTION_INFO_V1(fingerprint_intents_similarity);
PG_FUNCTION_INFO_V1(fingerprint_infrastructure_similarity);
PG_FUNCTION_INFO_V1(fingerprint_coactivity_similarity);
PG_FUNCTION_INFO_V1(fingerprint_hours_similarity);
PG_FUNCTION_INFO_V1(fingerprint_models_similarity);
PG_FUNCTION_INFO_V1(fingerprint_calendar_similarity);
PG_FUNCTION_INFO_V1(fingerprint_similar);
PG_FUNCTION_INFO_V1(fingerprint_distance);
PG_FUNCTION_INFO_V1(fingerprint_lsh_keys);

/* Combined similarity with the default weights. */
Datum
fingerprint_similarity(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(ls_similarity(ls_fp_arg(fcinfo, 0), ls_fp_arg(fcinfo, 1),
								   ls_default_weights));
}

/* Combined similarity with explicit weights. */
Datum
fingerprint_similarity_weighted(PG_FUNCTION_ARGS)
{
	double		w[LS_N_CHANNELS];

	ls_weights_arg(PG_GETARG_ARRAYTYPE_P(2), w);
	PG_RETURN_FLOAT8(ls_similarity(ls_fp_arg(fcinfo, 0), ls_fp_arg(fcinfo, 1), w));
}

/*
 * Every channel's similarity, the two families' (work, operator) and the
 * combined one, as jsonb (null: undefined).
 */
Datum
fingerprint_similarity_detail(PG_FUNCTION_ARGS)
{
	double		sims[LS_N_CHANNELS];
	double		sim,
				families[2];
	const char *const family_names[2] = {"work", "operator"};
	StringInfoData o;

	ls_similarity_parts(ls_fp_arg(fcinfo, 0), ls_fp_arg(fcinfo, 1), ls_default_weights,
						sims, &sim, &families[0], &families[1]);
	initStringInfo(&o);
	appendStringInfo(&o, "{\"similarity\": %.4f", sim);
	for (int f = 0; f < 2; f++)
	{
		if (families[f] == LS_UNDEFINED)
			appendStringInfo(&o, ", \"%s\": null", family_names[f]);
		else
			appendStringInfo(&o, ", \"%s\": %.4f", family_names[f], families[f]);
	}
	for (int c = 0; c < LS_N_CHANNELS; c++)
	{
		if (sims[c] == LS_UNDEFINED)
			appendStringInfo(&o, ", \"%s\": null", ls_channel_names[c]);
		else
			appendStringInfo(&o, ", \"%s\": %.4f", ls_channel_names[c], sims[c]);
	}
	appendStringInfoChar(&o, '}');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(o.data)));
}

/*
 * The same as a row of float8 (NULL: undefined), unrounded: the combined
 * similarity, work, operator, then the channels in ls_channel_names'
 * order.  What a query needs several of (the scoring's pairs) costs one
 * decoding and one computation of each channel here, against one per
 * function called.
 */
Datum
fingerprint_similarity_parts(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	double		sims[LS_N_CHANNELS];
	double		v[3 + LS_N_CHANNELS];
	Datum		values[3 + LS_N_CHANNELS];
	bool		nulls[3 + LS_N_CHANNELS];

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE ||
		desc->natts != 3 + LS_N_CHANNELS)
		elog(ERROR, "fingerprint_similarity_parts: wrong result type");
	ls_similarity_parts(ls_fp_arg(fcinfo, 0), ls_fp_arg(fcinfo, 1), ls_default_weights,
						sims, &v[0], &v[1], &v[2]);
	for (int c = 0; c < LS_N_CHANNELS; c++)
		v[3 + c] = sims[c];
	for (int i = 0; i < 3 + LS_N_CHANNELS; i++)
	{
		nulls[i] = v[i] == LS_UNDEFINED;
		values[i] = Float8GetDatum(nulls[i] ? 0 : v[i]);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

/*
 * fingerprint_<channel>_similarity: one channel's similarity, NULL when
 * the channel is empty on both sides.  The SQL name is the channel's
 * name in ls_channel_names.
 */
#define CHANNEL_FUNCTION(channel) \
Datum \
fingerprint_##channel##_similarity(PG_FUNCTION_ARGS) \
{ \
	double		s = ls_sim_##channel(ls_fp_arg(fcinfo, 0), ls_fp_arg(fcinfo, 1)); \
\
	if (s == LS_UNDEFINED) \
		PG_RETURN_NULL(); \
	PG_RETURN_FLOAT8(s); \
}

CHANNEL_FUNCTION(content)
CHANNEL_FUNCTION(intents)
CHANNEL_FUNCTION(infrastructure)
CHANNEL_FUNCTION(coactivity)
CHANNEL_FUNCTION(hours)
CHANNEL_FUNCTION(models)
CHANNEL_FUNCTION(calendar)

/* a % b: similarity at least lockstep.similarity_threshold. */
Datum
fingerprint_similar(PG_FUNCTION_ARGS)
{
	double		sim;

	PG_RETURN_BOOL(ls_similarity_at_least(ls_fp_arg(fcinfo, 0), ls_fp_arg(fcinfo, 1),
										  ls_default_weights, ls_similarity_threshold, &sim));
}

/* a <-> b: 1 - similarity. */
Datum
fingerprint_distance(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(1.0 - ls_similarity(ls_fp_arg(fcinfo, 0), ls_fp_arg(fcinfo, 1),
										 ls_default_weights));
}

/* The LSH band keys of a fingerprint, as int8[]. */
Datum
fingerprint_lsh_keys(PG_FUNCTION_ARGS)
{
	Fingerprint *fp = ls_fp_arg(fcinfo, 0);
	int32		bands = PG_GETARG_INT32(1);
	int32		rows = PG_GETARG_INT32(2);
	uint64		keys[LS_LSH_MAX_KEYS];
	Datum		d[LS_LSH_MAX_KEYS];
	int			n;

	ls_lsh_check(bands, rows);
	n = ls_lsh_keys(fp, bands, rows, keys);
	for (int i = 0; i < n; i++)
		d[i] = Int64GetDatum((int64) keys[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(d, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

PG_FUNCTION_INFO_V1(fingerprint_default_weights);

/*
 * fingerprint_default_weights() -> float8[]: fingerprint_similarity's
 * channel weights {content, intents, infrastructure, coactivity, hours,
 * models, calendar}, from their one home (similarity.c), for SQL that
 * builds weights of its own from them.
 */
Datum
fingerprint_default_weights(PG_FUNCTION_ARGS)
{
	Datum		d[LS_N_CHANNELS];

	for (int i = 0; i < LS_N_CHANNELS; i++)
		d[i] = Float8GetDatum(ls_default_weights[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(d, LS_N_CHANNELS, FLOAT8OID, sizeof(float8),
										  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}
