/*
 * sqlapi.h
 *	  Helpers of the SQL-callable functions: fingerprint arguments, the
 *	  argument checks the set-returning functions share, their query
 *	  cursors and memory budget.
 */
#ifndef LS_SQLAPI_H
#define LS_SQLAPI_H

#include "fingerprint.h"

#include "fmgr.h"
#include "utils/array.h"
#include "utils/portal.h"

#define DatumGetFingerprintP(X)	((Fingerprint *) PG_DETOAST_DATUM(X))
#define PG_GETARG_FINGERPRINT_P(n) DatumGetFingerprintP(PG_GETARG_DATUM(n))
#define PG_RETURN_FINGERPRINT_P(x) PG_RETURN_POINTER(x)

/* sqlapi.c */
extern Fingerprint *ls_fp_arg(FunctionCallInfo fcinfo, int n);
extern Oid	ls_fingerprint_type_oid(FunctionCallInfo fcinfo);
extern Portal ls_query_open(const char *query);
extern void ls_memory_charge(Size *used, Size more, const char *caller);
extern void ls_check_threshold(const char *name, double value);
extern double ls_query_threshold_args(FunctionCallInfo fcinfo, const char *caller);
extern int32 ls_int_arg(FunctionCallInfo fcinfo, int n, int32 dflt);
extern double ls_float_arg(FunctionCallInfo fcinfo, int n, double dflt);
extern void ls_weights_arg(ArrayType *arr, double *w);
extern void ls_weights_arg_or_default(FunctionCallInfo fcinfo, int n, double *w);

#endif							/* LS_SQLAPI_H */
