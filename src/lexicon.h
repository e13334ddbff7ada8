/*
 * lexicon.h
 *	  lexicon.c: the elicitation intents and the phrases that name them,
 *	  matched on token n-grams.  Pure code: no fmgr.
 */
#ifndef LS_LEXICON_H
#define LS_LEXICON_H

#include "postgres.h"

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

#define LS_LEX_MAX_NGRAM	4	/* tokens in the longest phrase */
#define LS_LEX_FINAL_BIT(h)	((h) >> 48)	/* 16 bits of a token hash */
#define LS_LEX_FINAL_WORDS	1024	/* 65536 bits: a token that ends no
									 * phrase passes for one in 1 of 800 */

/* Bit LS_LEX_FINAL_BIT(t) is set when some phrase ends in token t. */
extern uint64 ls_lex_final[LS_LEX_FINAL_WORDS];

/* Can a phrase end in this token?  Inline: asked of every token. */
static inline bool
ls_lexicon_may_end(uint64 tok)
{
	return (ls_lex_final[LS_LEX_FINAL_BIT(tok) >> 6] >> (LS_LEX_FINAL_BIT(tok) & 63)) & 1;
}

extern void ls_lexicon_load(void);
extern uint32 ls_lexicon_match(const uint64 *win, int ntok);
extern int	ls_lexicon_size(void);
extern void ls_lexicon_entry(int i, const char **intent, const char **phrase);

#endif							/* LS_LEXICON_H */
