/*
 * textfuncs.c
 *	  The normalizer and the intent lexicon as SQL functions, so analysts
 *	  can see exactly what the content and intent channels see.
 */
#include "lexicon.h"
#include "normalize.h"
#include "prompt.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(prompt_template);
PG_FUNCTION_INFO_V1(prompt_intents);
PG_FUNCTION_INFO_V1(lockstep_lexicon);
PG_FUNCTION_INFO_V1(prompt_scaffold_keys);

/* The normalized prompt: lowercased tokens, variable parts masked. */
Datum
prompt_template(PG_FUNCTION_ARGS)
{
	text	   *in = PG_GETARG_TEXT_PP(0);
	LsTokenizer t;
	StringInfoData out;
	int			n = 0;

	initStringInfo(&out);
	ls_tokenizer_init(&t, VARDATA_ANY(in), VARSIZE_ANY_EXHDR(in), true);
	while (ls_next_token(&t))
	{
		if (t.space_before && out.len > 0)
			appendStringInfoChar(&out, ' ');
		appendBinaryStringInfo(&out, t.buf, t.len);
		if ((++n & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	PG_RETURN_TEXT_P(cstring_to_text_with_len(out.data, out.len));
}

/* The elicitation intents the lexicon finds in a prompt, in fixed order. */
Datum
prompt_intents(PG_FUNCTION_ARGS)
{
	text	   *in = PG_GETARG_TEXT_PP(0);
	LsPromptInfo info;
	Datum		names[LS_N_INTENTS];
	int			n = 0;

	ls_analyze_prompt(VARDATA_ANY(in), VARSIZE_ANY_EXHDR(in), &info);
	for (int i = 0; i < LS_N_INTENTS; i++)
		if (info.intents & (1u << i))
			names[n++] = CStringGetTextDatum(ls_intent_names[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* The scaffold keys a prompt contributes (see fingerprint_scaffolds). */
Datum
prompt_scaffold_keys(PG_FUNCTION_ARGS)
{
	text	   *in = PG_GETARG_TEXT_PP(0);
	LsPromptInfo info;
	Datum		keys[LS_KEYS_PER_PROMPT];

	ls_analyze_prompt(VARDATA_ANY(in), VARSIZE_ANY_EXHDR(in), &info);
	for (int i = 0; i < info.n_keys; i++)
		keys[i] = Int64GetDatum((int64) info.keys[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(keys, info.n_keys, INT8OID, 8, true, TYPALIGN_DOUBLE));
}

/* The intent lexicon as a table of (intent, phrase). */
Datum
lockstep_lexicon(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < ls_lexicon_size(); i++)
	{
		Datum		v[2];
		bool		nulls[2] = {0};
		const char *intent;
		const char *phrase;

		ls_lexicon_entry(i, &intent, &phrase);
		v[0] = CStringGetTextDatum(intent);
		v[1] = CStringGetTextDatum(phrase);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	return (Datum) 0;
}
