/*
 * compat.c
 *	  Entry points that only older install scripts name.
 *
 * An installed extension keeps calling the C symbols its own version's
 * script named until ALTER EXTENSION lockstep UPDATE replaces them, and
 * CREATE EXTENSION lockstep VERSION '0.1.0' (the first step of an upgrade
 * test) looks every one of them up.  So a symbol stays here, with a clear
 * error or the new code behind it, for as long as a supported older
 * version names it.
 */
#include "postgres.h"

#include "fmgr.h"

/* 0.1.0: the synthetic log, now the lockstep_synth extension */
PG_FUNCTION_INFO_V1(lockstep_synth_chunk);
PG_FUNCTION_INFO_V1(lockstep_synth_accounts);
PG_FUNCTION_INFO_V1(lockstep_synth_releases);

/* The generator functions of 0.1.0 say where they went. */
static Datum
synth_moved(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("the synthetic log moved to the lockstep_synth extension"),
			 errhint("Run ALTER EXTENSION lockstep UPDATE, then CREATE EXTENSION lockstep_synth.")));
	pg_unreachable();
}

Datum
lockstep_synth_chunk(PG_FUNCTION_ARGS)
{
	return synth_moved();
}

Datum
lockstep_synth_accounts(PG_FUNCTION_ARGS)
{
	return synth_moved();
}

Datum
lockstep_synth_releases(PG_FUNCTION_ARGS)
{
	return synth_moved();
}

/* 0.1.0: channel functions renamed to their channel's name */
extern Datum fingerprint_intents_similarity(PG_FUNCTION_ARGS);
extern Datum fingerprint_infrastructure_similarity(PG_FUNCTION_ARGS);
extern Datum fingerprint_coactivity_similarity(PG_FUNCTION_ARGS);
extern Datum fingerprint_models_similarity(PG_FUNCTION_ARGS);

PG_FUNCTION_INFO_V1(fingerprint_intent_similarity);
PG_FUNCTION_INFO_V1(fingerprint_infra_similarity);
PG_FUNCTION_INFO_V1(fingerprint_coactivity);
PG_FUNCTION_INFO_V1(fingerprint_model_similarity);

Datum
fingerprint_intent_similarity(PG_FUNCTION_ARGS)
{
	return fingerprint_intents_similarity(fcinfo);
}

Datum
fingerprint_infra_similarity(PG_FUNCTION_ARGS)
{
	return fingerprint_infrastructure_similarity(fcinfo);
}

Datum
fingerprint_coactivity(PG_FUNCTION_ARGS)
{
	return fingerprint_coactivity_similarity(fcinfo);
}

Datum
fingerprint_model_similarity(PG_FUNCTION_ARGS)
{
	return fingerprint_models_similarity(fcinfo);
}

/* 0.1.0: lockstep_components, now lockstep_clusters (same columns) */
extern Datum lockstep_clusters(PG_FUNCTION_ARGS);

PG_FUNCTION_INFO_V1(lockstep_components);

Datum
lockstep_components(PG_FUNCTION_ARGS)
{
	return lockstep_clusters(fcinfo);
}
