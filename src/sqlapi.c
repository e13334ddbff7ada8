/*
 * sqlapi.c
 *	  Helpers of the SQL-callable functions: fingerprint arguments, the
 *	  checks the set-returning functions share, their query cursors and
 *	  memory budget.
 */
#include "sqlapi.h"
#include "format.h"
#include "lockstep.h"
#include "similarity.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include <math.h>

/* Argument n as a fingerprint of a version this build reads. */
Fingerprint *
ls_fp_arg(FunctionCallInfo fcinfo, int n)
{
	Fingerprint *fp = PG_GETARG_FINGERPRINT_P(n);

	ls_check_version(fp);
	return fp;
}

/* The OID of type fingerprint: it lives in the schema of this function. */
Oid
ls_fingerprint_type_oid(FunctionCallInfo fcinfo)
{
	Oid			nsp = get_func_namespace(fcinfo->flinfo->fn_oid);

	return GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
						   CStringGetDatum("fingerprint"), ObjectIdGetDatum(nsp));
}

/* The most any call charged since lockstep_memory_charged last read it. */
static Size ls_charged_peak = 0;

/* Count memory against the limit; raise a clear error past it. */
void
ls_memory_charge(Size *used, Size more, const char *caller)
{
	*used += more;
	if (*used > ls_charged_peak)
		ls_charged_peak = *used;
	if (*used / 1024 > (Size) ls_pairs_memory_limit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s needs more than lockstep.pairs_memory_limit (%d kB)",
						caller, ls_pairs_memory_limit),
				 errhint("Raise lockstep.pairs_memory_limit, or give it a smaller input.")));
}

/* A threshold argument: in [0, 1]. */
void
ls_check_threshold(const char *name, double value)
{
	if (!(value >= 0 && value <= 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be between 0 and 1", name),
				 errdetail("The value was %g.", value)));
}

/*
 * The arguments of a function (query, threshold, ...): the query must not
 * be NULL; a NULL threshold means lockstep.similarity_threshold.  Returns
 * the threshold, checked.
 */
double
ls_query_threshold_args(FunctionCallInfo fcinfo, const char *caller)
{
	double		threshold;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the query of %s must not be NULL", caller)));
	threshold = PG_ARGISNULL(1) ? ls_similarity_threshold : PG_GETARG_FLOAT8(1);
	ls_check_threshold("threshold", threshold);
	return threshold;
}

/* Integer argument n, or dflt when it is NULL (the documented default). */
int32
ls_int_arg(FunctionCallInfo fcinfo, int n, int32 dflt)
{
	return PG_ARGISNULL(n) ? dflt : PG_GETARG_INT32(n);
}

/* Float argument n, or dflt when it is NULL (the documented default). */
double
ls_float_arg(FunctionCallInfo fcinfo, int n, double dflt)
{
	return PG_ARGISNULL(n) ? dflt : PG_GETARG_FLOAT8(n);
}

/*
 * The weights argument n of a clustering function: fingerprint_similarity's
 * default when it is NULL or not declared (the scripts of 0.5.0 and before
 * declare seven arguments for fingerprint_clusters, and call it until ALTER
 * EXTENSION UPDATE runs: there is no eighth to read).
 */
void
ls_weights_arg_or_default(FunctionCallInfo fcinfo, int n, double *w)
{
	if (PG_NARGS() <= n || PG_ARGISNULL(n))
		memcpy(w, ls_default_weights, LS_N_CHANNELS * sizeof(double));
	else
		ls_weights_arg(PG_GETARG_ARRAYTYPE_P(n), w);
}

/*
 * Channel weights from a float8[] of LS_N_CHANNELS non-negative values, or
 * of one fewer (0.2.0's six channels; calendar then weighs 0).
 */
void
ls_weights_arg(ArrayType *arr, double *w)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	double		max = 0;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("weights must be a one-dimensional array")));
	deconstruct_array(arr, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, &n);
	if (n != LS_N_CHANNELS && n != LS_N_CHANNELS - 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("weights must have %d elements, not %d", LS_N_CHANNELS, n),
				 errhint("Give one weight per channel: content, intents, infrastructure, coactivity, hours, models, calendar.")));
	w[LS_N_CHANNELS - 1] = 0;
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
		max = Max(max, w[i]);
	}
	if (max <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("at least one weight must be positive")));
	/* only their ratios count: scaled to at most 1, no sum can overflow */
	for (int i = 0; i < n; i++)
		w[i] /= max;
}

/*
 * Connect to SPI and open a read-only cursor on a caller's query; the
 * caller fetches, then closes the cursor and calls SPI_finish.
 */
Portal
ls_query_open(const char *query)
{
	SPIPlanPtr	plan;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare(query, 0, NULL);
	if (plan == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("could not prepare the query: %s", SPI_result_code_string(SPI_result))));
	return SPI_cursor_open(NULL, plan, NULL, NULL, true);
}

PG_FUNCTION_INFO_V1(lockstep_can_commit);

/*
 * Whether the procedure that calls this may COMMIT: true in a CALL from
 * the top level (or from a DO block or a procedure called so), false
 * inside a transaction block or a function.  It reads the SPI connection
 * of the calling PL/pgSQL procedure, which is atomic exactly when its
 * COMMIT would fail.
 */
Datum
lockstep_can_commit(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(SPI_inside_nonatomic_context());
}

PG_FUNCTION_INFO_V1(lockstep_memory_charged);

/*
 * The most memory that one similarity join or clustering call of this
 * session charged against lockstep.pairs_memory_limit since the last
 * call of this function, in bytes; reading it starts the count again.
 */
Datum
lockstep_memory_charged(PG_FUNCTION_ARGS)
{
	Size		peak = ls_charged_peak;

	ls_charged_peak = 0;
	PG_RETURN_INT64((int64) peak);
}
