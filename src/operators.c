/*
 * operators.c
 *	  Similarity functions, the % and <-> operators, LSH keys, and the
 *	  GUCs they read.
 */
#include "lockstep.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"

#include <limits.h>
#include <math.h>

PG_FUNCTION_INFO_V1(fingerprint_similarity);
PG_FUNCTION_INFO_V1(fingerprint_similarity_weighted);
PG_FUNCTION_INFO_V1(fingerprint_similarity_detail);
PG_FUNCTION_INFO_V1(fingerprint_content_similarity);
PG_FUNCTION_INFO_V1(fingerprint_intent_similarity);
PG_FUNCTION_INFO_V1(fingerprint_infra_similarity);
PG_FUNCTION_INFO_V1(fingerprint_coactivity);
PG_FUNCTION_INFO_V1(fingerprint_hours_similarity);
PG_FUNCTION_INFO_V1(fingerprint_model_similarity);
PG_FUNCTION_INFO_V1(fingerprint_similar);
PG_FUNCTION_INFO_V1(fingerprint_distance);
PG_FUNCTION_INFO_V1(fingerprint_lsh_keys);

double		ls_similarity_threshold = 0.5;

/* Register the GUCs; called from _PG_init. */
void
ls_define_gucs(void)
{
	DefineCustomRealVariable("lockstep.similarity_threshold",
							 "Similarity at or above which fingerprint % fingerprint is true.",
							 "Also the default threshold of fingerprint_similar_pairs.",
							 &ls_similarity_threshold,
							 0.5, 0.0, 1.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("lockstep.pairs_memory_limit",
							"Memory fingerprint_similar_pairs may use for fingerprints and keys.",
							"Past it the call stops with an error instead of exhausting memory.",
							&ls_pairs_memory_limit,
							2 * 1024 * 1024, 1024, MAX_KILOBYTES,
							PGC_USERSET, GUC_UNIT_KB, NULL, NULL, NULL);
	MarkGUCPrefixReserved("lockstep");
}

/* Argument n as a fingerprint of a version this build reads. */
Fingerprint *
ls_fp_arg(FunctionCallInfo fcinfo, int n)
{
	Fingerprint *fp = PG_GETARG_FINGERPRINT_P(n);

	ls_check_version(fp);
	return fp;
}

/* Combined similarity with the default weights. */
Datum
fingerprint_similarity(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(ls_similarity(ls_fp_arg(fcinfo, 0), ls_fp_arg(fcinfo, 1),
								   ls_default_weights));
}

/* Channel weights from a float8[] of LS_N_CHANNELS non-negative values. */
static void
weights_arg(ArrayType *arr, double *w)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	double		sum = 0;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("weights must be a one-dimensional array")));
	deconstruct_array(arr, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, &n);
	if (n != LS_N_CHANNELS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("weights must have %d elements, not %d", LS_N_CHANNELS, n),
				 errhint("Give one weight per channel: content, intents, infrastructure, coactivity, hours, models.")));
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("weights must not contain NULL")));
		w[i] = DatumGetFloat8(elems[i]);
		if (!(w[i] >= 0) || isinf(w[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("weight of channel %s must be a finite non-negative number",
							ls_channel_names[i]),
					 errdetail("The value was %g.", w[i])));
		sum += w[i];
	}
	if (sum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("at least one weight must be positive")));
}

/* Combined similarity with explicit weights. */
Datum
fingerprint_similarity_weighted(PG_FUNCTION_ARGS)
{
	double		w[LS_N_CHANNELS];

	weights_arg(PG_GETARG_ARRAYTYPE_P(2), w);
	PG_RETURN_FLOAT8(ls_similarity(ls_fp_arg(fcinfo, 0), ls_fp_arg(fcinfo, 1), w));
}

/* Every channel's similarity and the combined one, as jsonb (null: undefined). */
Datum
fingerprint_similarity_detail(PG_FUNCTION_ARGS)
{
	Fingerprint *a = ls_fp_arg(fcinfo, 0);
	Fingerprint *b = ls_fp_arg(fcinfo, 1);
	double		sims[LS_N_CHANNELS];
	StringInfoData o;

	ls_channel_sims(a, b, sims);
	initStringInfo(&o);
	appendStringInfo(&o, "{\"similarity\": %.4f", ls_similarity(a, b, ls_default_weights));
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

/* Return a channel similarity, NULL when the channel is empty on both sides. */
#define CHANNEL_FUNCTION(sqlname, fn) \
Datum \
sqlname(PG_FUNCTION_ARGS) \
{ \
	double		s = fn(ls_fp_arg(fcinfo, 0), ls_fp_arg(fcinfo, 1)); \
\
	if (s == LS_UNDEFINED) \
		PG_RETURN_NULL(); \
	PG_RETURN_FLOAT8(s); \
}

CHANNEL_FUNCTION(fingerprint_content_similarity, ls_sim_content)
CHANNEL_FUNCTION(fingerprint_intent_similarity, ls_sim_intents)
CHANNEL_FUNCTION(fingerprint_infra_similarity, ls_sim_infra)
CHANNEL_FUNCTION(fingerprint_coactivity, ls_sim_coactivity)
CHANNEL_FUNCTION(fingerprint_hours_similarity, ls_sim_hours)
CHANNEL_FUNCTION(fingerprint_model_similarity, ls_sim_models)

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
