/*
 * fingerprint.c
 *	  The fingerprint type: text and binary I/O, and the jsonb summary.
 *
 * The text form is the base64 of the canonical wire form, so it
 * round-trips losslessly and is the same on every platform; postgres_fdw
 * and Citus move values as text.  Input is accepted only if it is exactly
 * what output would print for the value it decodes to.
 */
#include "fingerprint.h"
#include "format.h"
#include "sketch.h"
#include "hashing.h"
#include "sqlapi.h"

#include "catalog/pg_type.h"
#include "common/base64.h"
#include "funcapi.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(fingerprint_in);
PG_FUNCTION_INFO_V1(fingerprint_out);
PG_FUNCTION_INFO_V1(fingerprint_recv);
PG_FUNCTION_INFO_V1(fingerprint_send);
PG_FUNCTION_INFO_V1(fingerprint_summary);
PG_FUNCTION_INFO_V1(fingerprint_size);
PG_FUNCTION_INFO_V1(fingerprint_scaffolds);
PG_FUNCTION_INFO_V1(fingerprint_models);
PG_FUNCTION_INFO_V1(fingerprint_stats);
PG_FUNCTION_INFO_V1(fingerprint_volume);
PG_FUNCTION_INFO_V1(fingerprint_infrastructure_keys);
PG_FUNCTION_INFO_V1(fingerprint_payment_keys);
PG_FUNCTION_INFO_V1(fingerprint_scaffold_keys);
PG_FUNCTION_INFO_V1(fingerprint_intents);
PG_FUNCTION_INFO_V1(lockstep_model_hash);

/*
 * Parse a wire form into an on-disk fingerprint, raising errcode on any
 * problem; the value must re-serialize to the very same bytes.
 */
static Fingerprint *
fingerprint_from_wire(const unsigned char *buf, Size len, int sqlstate)
{
	LsState		st;
	const char *err;
	unsigned char check[LS_WIRE_MAX];

	if (len > LS_WIRE_MAX)
		ereport(ERROR,
				(errcode(sqlstate),
				 errmsg("invalid fingerprint"),
				 errdetail("Input is %zu bytes; a fingerprint is at most %d.",
						   len, LS_WIRE_MAX)));
	err = ls_wire_read(buf, len, &st);
	if (err == NULL && (ls_wire_size(&st) != len ||
						(ls_wire_write(&st, check), memcmp(check, buf, len) != 0)))
		err = "input is not in canonical form";
	if (err != NULL)
		ereport(ERROR,
				(errcode(sqlstate),
				 errmsg("invalid fingerprint"),
				 errdetail("%c%s.", pg_toupper((unsigned char) err[0]), err + 1)));
	return ls_state_pack(&st);
}

/* The wire form of an on-disk fingerprint, palloc'd; *len gets its size. */
static unsigned char *
fingerprint_to_wire(const Fingerprint *fp, Size *len)
{
	LsState		st;
	unsigned char *buf;

	ls_state_unpack(fp, &st);
	buf = palloc(ls_wire_size(&st));
	*len = ls_wire_write(&st, buf);
	return buf;
}

/* Text input: base64 of the canonical wire form. */
Datum
fingerprint_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	int			len = strlen(str);
	unsigned char *buf;
	int			n;
	char	   *check;

	if (len > pg_b64_enc_len(LS_WIRE_MAX))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type fingerprint"),
				 errdetail("Input is %d characters; a fingerprint is at most %d.",
						   len, pg_b64_enc_len(LS_WIRE_MAX))));
	buf = palloc(pg_b64_dec_len(len) + 1);
	n = pg_b64_decode(str, len, (char *) buf, pg_b64_dec_len(len) + 1);
	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type fingerprint"),
				 errdetail("Input is not valid base64.")));
	/* base64 accepts some variants (e.g. white space); only one is ours */
	check = palloc(pg_b64_enc_len(n) + 1);
	if (pg_b64_encode((char *) buf, n, check, pg_b64_enc_len(n)) != len ||
		memcmp(check, str, len) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type fingerprint"),
				 errdetail("Input is not in canonical base64 form.")));
	PG_RETURN_FINGERPRINT_P(fingerprint_from_wire(buf, n,
												  ERRCODE_INVALID_TEXT_REPRESENTATION));
}

/* Text output. */
Datum
fingerprint_out(PG_FUNCTION_ARGS)
{
	Fingerprint *fp = PG_GETARG_FINGERPRINT_P(0);
	Size		len;
	unsigned char *buf = fingerprint_to_wire(fp, &len);
	int			olen = pg_b64_enc_len(len);
	char	   *out = palloc(olen + 1);

	olen = pg_b64_encode((char *) buf, len, out, olen);
	out[olen] = '\0';
	PG_RETURN_CSTRING(out);
}

/* Binary input: the wire form itself. */
Datum
fingerprint_recv(PG_FUNCTION_ARGS)
{
	StringInfo	msg = (StringInfo) PG_GETARG_POINTER(0);
	Size		len = msg->len - msg->cursor;
	const unsigned char *buf = (const unsigned char *) pq_getmsgbytes(msg, len);

	PG_RETURN_FINGERPRINT_P(fingerprint_from_wire(buf, len,
												  ERRCODE_INVALID_BINARY_REPRESENTATION));
}

/* Binary output. */
Datum
fingerprint_send(PG_FUNCTION_ARGS)
{
	Fingerprint *fp = PG_GETARG_FINGERPRINT_P(0);
	Size		len;
	unsigned char *buf = fingerprint_to_wire(fp, &len);
	StringInfoData out;

	pq_begintypsend(&out);
	pq_sendbytes(&out, (char *) buf, len);
	PG_RETURN_BYTEA_P(pq_endtypsend(&out));
}

/* Stored size in bytes (the varlena, without TOAST compression). */
Datum
fingerprint_size(PG_FUNCTION_ARGS)
{
	Fingerprint *fp = PG_GETARG_FINGERPRINT_P(0);

	PG_RETURN_INT32(VARSIZE(fp));
}

/*
 * Append a timestamp as ISO 8601 in UTC, independent of the session; a
 * year before 1 AD as PostgreSQL writes it (4713-01-01T00:00:00Z BC), so
 * that every printed time casts back to timestamptz.
 */
static void
append_time(StringInfo out, int64 ts)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (ts == LS_NO_TIME || timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
	{
		appendStringInfoString(out, "null");
		return;
	}
	appendStringInfo(out, "\"%04d-%02d-%02dT%02d:%02d:%02d",
					 tm.tm_year > 0 ? tm.tm_year : 1 - tm.tm_year, tm.tm_mon, tm.tm_mday,
					 tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (fsec != 0)
		appendStringInfo(out, ".%06d", (int) fsec);
	appendStringInfoString(out, tm.tm_year > 0 ? "Z\"" : "Z BC\"");
}

/* Append a ratio, 0 when the denominator is 0, to 4 decimals. */
static void
append_rate(StringInfo out, uint64 num, uint64 den)
{
	appendStringInfo(out, "%.4f", den == 0 ? 0.0 : (double) num / den);
}

/* Every channel in human terms, as jsonb. */
Datum
fingerprint_summary(PG_FUNCTION_ARGS)
{
	Fingerprint *fp = PG_GETARG_FINGERPRINT_P(0);
	LsState		st;
	LsFixed    *f = &st.f;
	StringInfoData o;
	LsKeyCount	keys[LS_MAX_KEYS];
	uint32		hod[24] = {0};
	uint32		dow[7] = {0};

	ls_state_unpack(fp, &st);
	initStringInfo(&o);

	appendStringInfo(&o, "{\"version\": %d, \"bytes\": %d", f->version, (int) VARSIZE(fp));

	appendStringInfo(&o, ", \"volume\": {\"requests\": " UINT64_FORMAT
					 ", \"prompts\": " UINT64_FORMAT
					 ", \"prompt_bytes\": " UINT64_FORMAT ", \"avg_prompt_bytes\": ",
					 f->n_requests, f->n_prompts, f->prompt_bytes);
	append_rate(&o, f->prompt_bytes, f->n_prompts);
	appendStringInfo(&o, ", \"tokens_in\": " UINT64_FORMAT
					 ", \"tokens_out\": " UINT64_FORMAT "}",
					 f->tokens_in, f->tokens_out);

	memcpy(keys, st.keys, f->n_keys * sizeof(LsKeyCount));
	qsort(keys, f->n_keys, sizeof(LsKeyCount), ls_cmp_key_count_desc);
	appendStringInfo(&o, ", \"content\": {\"keyed_prompts\": " UINT64_FORMAT
					 ", \"short_prompts\": " UINT64_FORMAT
					 ", \"scaffold_keys\": %d, \"sampled\": %s"
					 ", \"top_scaffolds\": [",
					 f->n_keyed, f->n_prompts - f->n_keyed, f->n_keys,
					 f->n_keys == LS_MAX_KEYS ? "true" : "false");
	for (int i = 0; i < Min(f->n_keys, 8); i++)
	{
		appendStringInfo(&o, "%s{\"key\": \"%08x\", \"count\": %u, \"share\": ",
						 i ? ", " : "", keys[i].key, keys[i].count);
		append_rate(&o, keys[i].count, f->n_keyed);
		appendStringInfoChar(&o, '}');
	}
	appendStringInfoString(&o, "]}");

	appendStringInfoString(&o, ", \"intents\": {");
	for (int i = 0; i < LS_N_INTENTS; i++)
	{
		appendStringInfo(&o, "%s\"%s\": {\"count\": " UINT64_FORMAT ", \"rate\": ",
						 i ? ", " : "", ls_intent_names[i], f->intents[i]);
		append_rate(&o, f->intents[i], f->n_prompts);
		appendStringInfoChar(&o, '}');
	}
	appendStringInfoChar(&o, '}');

	appendStringInfo(&o, ", \"infrastructure\": {\"ip_prefixes\": %.0f, "
					 "\"user_agents\": %.0f, \"payments\": %.0f}",
					 ls_kmv_distinct(f->ip, f->n_ip, LS_K_IP),
					 ls_kmv_distinct(f->ua, f->n_ua, LS_K_UA),
					 ls_kmv_distinct(f->pay, f->n_pay, LS_K_PAY));

	for (int i = 0; i < LS_HOURS_OF_WEEK; i++)
	{
		hod[i % 24] += f->hours[i];
		dow[i / 24] += f->hours[i];
	}
	appendStringInfo(&o, ", \"timing\": {\"timed_requests\": " UINT64_FORMAT
					 ", \"first_seen\": ", f->n_timed);
	append_time(&o, f->n_timed ? f->first_seen : LS_NO_TIME);
	appendStringInfoString(&o, ", \"last_seen\": ");
	append_time(&o, f->n_timed ? f->last_seen : LS_NO_TIME);
	appendStringInfo(&o, ", \"active_15min_buckets\": %.0f, \"active_days\": %.0f, \"hour_of_day_utc\": [",
					 ls_kmv_distinct(f->act, f->n_act, LS_K_ACT),
					 ls_kmv_distinct(f->day, f->n_day, LS_K_DAY));
	for (int i = 0; i < 24; i++)
		appendStringInfo(&o, "%s%u", i ? ", " : "", hod[i]);
	appendStringInfoString(&o, "], \"day_of_week_utc\": [");
	for (int i = 0; i < 7; i++)
		appendStringInfo(&o, "%s%u", i ? ", " : "", dow[i]);
	appendStringInfoString(&o, "], \"hour_of_week_utc\": [");
	for (int i = 0; i < LS_HOURS_OF_WEEK; i++)
		appendStringInfo(&o, "%s%u", i ? ", " : "", f->hours[i]);
	appendStringInfoString(&o, "]}");

	appendStringInfoString(&o, ", \"models\": [");
	for (int i = 0; i < f->n_models; i++)
	{
		appendStringInfo(&o, "%s{\"model\": ", i ? ", " : "");
		escape_json(&o, st.models[i].name);
		appendStringInfo(&o, ", \"requests\": " UINT64_FORMAT ", \"first_seen\": ",
						 st.models[i].count);
		append_time(&o, st.models[i].first_seen);
		appendStringInfoChar(&o, '}');
	}
	appendStringInfo(&o, "], \"other_model_requests\": " UINT64_FORMAT "}",
					 f->other_models);

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(o.data)));
}

/*
 * The stored scaffold keys with their exact counts; the third column, the
 * count error bound of format version 1, is always 0 since version 2.
 */
Datum
fingerprint_scaffolds(PG_FUNCTION_ARGS)
{
	Fingerprint *fp = PG_GETARG_FINGERPRINT_P(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	LsKeyCount *keys = LS_FP_KEYS(fp);

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < fp->n_keys; i++)
	{
		Datum		v[3];
		bool		nulls[3] = {0};

		v[0] = Int64GetDatum((int64) keys[i].key);
		v[1] = Int64GetDatum((int64) keys[i].count);
		v[2] = Int64GetDatum(0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	return (Datum) 0;
}

/*
 * The models of a fingerprint: the name as stored (its first bytes, for
 * display), the hash of the whole name (its identity, as
 * lockstep_model_hash computes it), requests and first-seen time.
 */
Datum
fingerprint_models(PG_FUNCTION_ARGS)
{
	Fingerprint *fp = ls_fp_arg(fcinfo, 0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	LsModel    *models = LS_FP_MODELS(fp);

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < fp->n_models; i++)
	{
		Datum		v[4];
		bool		nulls[4] = {0};

		v[0] = PointerGetDatum(cstring_to_text_with_len(models[i].name,
														strnlen(models[i].name, LS_MODEL_NAME_LEN)));
		v[1] = Int64GetDatum((int64) models[i].hash);
		v[2] = Int64GetDatum((int64) models[i].count);
		nulls[3] = models[i].first_seen == LS_NO_TIME;
		v[3] = TimestampTzGetDatum(models[i].first_seen);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	return (Datum) 0;
}

/*
 * The record of the calling function's result type with these values,
 * the type looked up once per call site (fn_extra): built and blessed on
 * every row, it cost more than the values (the clustering reads the stats
 * of every account of the window several times).
 */
static Datum
result_record(FunctionCallInfo fcinfo, Datum *v, bool *nulls)
{
	TupleDesc	desc = fcinfo->flinfo->fn_extra;

	if (desc == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "function returning a record called in a context that cannot accept one");
		desc = BlessTupleDesc(desc);
		fcinfo->flinfo->fn_extra = desc;
		MemoryContextSwitchTo(old);
	}
	return HeapTupleGetDatum(heap_form_tuple(desc, v, nulls));
}

/*
 * The numbers scoring reads, typed: requests, prompts, first and last
 * seen (NULL without timestamps), active 15-minute buckets and active
 * days (estimates past their sketches' k).
 */
Datum
fingerprint_stats(PG_FUNCTION_ARGS)
{
	Fingerprint *fp = ls_fp_arg(fcinfo, 0);
	Datum		v[6];
	bool		nulls[6] = {0};

	v[0] = Int64GetDatum((int64) fp->n_requests);
	v[1] = Int64GetDatum((int64) fp->n_prompts);
	nulls[2] = nulls[3] = fp->n_timed == 0;
	v[2] = TimestampTzGetDatum(fp->first_seen);
	v[3] = TimestampTzGetDatum(fp->last_seen);
	v[4] = Float8GetDatum(ls_kmv_distinct(fp->act, fp->n_act, LS_K_ACT));
	v[5] = Float8GetDatum(ls_kmv_distinct(fp->day, fp->n_day, LS_K_DAY));
	PG_RETURN_DATUM(result_record(fcinfo, v, nulls));
}

/*
 * The volume counters, typed: requests, tokens in and out, prompt bytes.
 * Scoring reads the output per request (long answers are what a
 * distillation campaign harvests).
 */
Datum
fingerprint_volume(PG_FUNCTION_ARGS)
{
	Fingerprint *fp = ls_fp_arg(fcinfo, 0);
	Datum		v[4];
	bool		nulls[4] = {0};

	v[0] = Int64GetDatum((int64) fp->n_requests);
	v[1] = Int64GetDatum((int64) fp->tokens_in);
	v[2] = Int64GetDatum((int64) fp->tokens_out);
	v[3] = Int64GetDatum((int64) fp->prompt_bytes);
	PG_RETURN_DATUM(result_record(fcinfo, v, nulls));
}

/*
 * The hashes of the infrastructure sketches (networks, user agents,
 * payment instruments), each a bottom-k sample: all of an account's values
 * while it has at most k of them.  Exact equality of a hash links accounts
 * that share a value without revealing it.
 */
Datum
fingerprint_infrastructure_keys(PG_FUNCTION_ARGS)
{
	Fingerprint *fp = ls_fp_arg(fcinfo, 0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const struct
	{
		const char *kind;
		const uint32 *keys;
		int			n;
	}			parts[] = {
		{"network", fp->ip, fp->n_ip},
		{"user_agent", fp->ua, fp->n_ua},
		{"payment", fp->pay, fp->n_pay},
	};

	InitMaterializedSRF(fcinfo, 0);
	for (int p = 0; p < (int) lengthof(parts); p++)
		for (int i = 0; i < parts[p].n; i++)
		{
			Datum		v[2];
			bool		nulls[2] = {0};

			v[0] = CStringGetTextDatum(parts[p].kind);
			v[1] = Int64GetDatum((int64) parts[p].keys[i]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
		}
	return (Datum) 0;
}

/*
 * The payment keys alone, ascending, as int8[]: what
 * fingerprint_infrastructure_keys reports of kind payment, without a row
 * per key (the card groups of thin accounts look them up by the hundred
 * thousand under a hydra).
 */
Datum
fingerprint_payment_keys(PG_FUNCTION_ARGS)
{
	Fingerprint *fp = ls_fp_arg(fcinfo, 0);
	Datum		d[LS_K_PAY];

	for (int i = 0; i < fp->n_pay; i++)
		d[i] = Int64GetDatum((int64) fp->pay[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(d, fp->n_pay, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * The scaffold keys of the content channel with their counts (the prompts
 * that gave each): every key while the account has at most LS_MAX_KEYS,
 * else the smallest.  prompt_scaffold_keys gives the keys of one prompt,
 * so a key leads back to the log's prompts that have it.
 */
Datum
fingerprint_scaffold_keys(PG_FUNCTION_ARGS)
{
	Fingerprint *fp = ls_fp_arg(fcinfo, 0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const LsKeyCount *keys = LS_FP_KEYS(fp);

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < fp->n_keys; i++)
	{
		Datum		v[2];
		bool		nulls[2] = {0};

		v[0] = Int64GetDatum((int64) keys[i].key);
		v[1] = Int64GetDatum((int64) keys[i].count);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	return (Datum) 0;
}

/* Each intent with its count and its rate per prompt (0 without prompts). */
Datum
fingerprint_intents(PG_FUNCTION_ARGS)
{
	Fingerprint *fp = ls_fp_arg(fcinfo, 0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < LS_N_INTENTS; i++)
	{
		Datum		v[3];
		bool		nulls[3] = {0};

		v[0] = CStringGetTextDatum(ls_intent_names[i]);
		v[1] = Int64GetDatum((int64) fp->intents[i]);
		v[2] = Float8GetDatum(fp->n_prompts ? (double) fp->intents[i] / fp->n_prompts : 0.0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	return (Datum) 0;
}

/* The identity of a model name in a fingerprint: the hash of all of it. */
Datum
lockstep_model_hash(PG_FUNCTION_ARGS)
{
	text	   *name = PG_GETARG_TEXT_PP(0);

	PG_RETURN_INT64((int64) ls_model_hash(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name)));
}
