/*
 * prompt.h
 *	  Prompt analysis: the tokenizer shared by prompt_template and the
 *	  aggregate (normalize.c), the intent lexicon (lexicon.c), and what one
 *	  prompt contributes to a fingerprint (prompt.c).  Pure code: no fmgr.
 */
#ifndef LS_PROMPT_H
#define LS_PROMPT_H

#include "postgres.h"

/*
 * Content keying: one-permutation MinHash of a prompt's shingles into
 * LS_KEYS_PER_PROMPT bins (by the top bits of the hash); a bin's minimum
 * is the same for every prompt built on one scaffold with probability
 * about the shingle Jaccard of the prompts, so a scaffold shows up as a
 * recurring key.  A key is the top 32 bits of its bin's minimum.
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

/* What one prompt contributes, computed by ls_analyze_prompt. */
typedef struct LsPromptInfo
{
	int			n_keys;
	uint32		keys[LS_KEYS_PER_PROMPT];	/* one a non-empty bin: its top 32 bits */
	uint32		intents;		/* bit i set: intent i present */
} LsPromptInfo;

/* normalize.c: the tokenizer */
#define LS_TOKEN_MAX	48		/* longer words are masked as <blob> */

typedef struct LsTokenizer
{
	const unsigned char *p;
	const unsigned char *end;
	bool		space_before;	/* whitespace separated it from the last */
	bool		may_email;		/* the text contains an '@' */
	const unsigned char *no_email_before;	/* no address starts before */
	bool		text;			/* keep the token text in buf, not only its hash */
	int			len;
	uint64		hash;			/* of the normalized text */
	char		buf[LS_TOKEN_MAX * 2 + 8];	/* normalized token text, if text */
} LsTokenizer;

extern void ls_tokenizer_init(LsTokenizer *t, const char *s, int len, bool text);
extern bool ls_next_token(LsTokenizer *t);

/*
 * Hash of the n-gram toks[0..n): token hashes are already avalanched, so
 * XOR of rotated copies (a cyclic-polynomial hash, as in buzhash) is
 * uniform and order-sensitive; the per-length constant keeps a phrase of
 * n tokens apart from its sub-phrases.  Phrases and shingles both use it.
 */
static inline uint64
ls_ngram_hash(const uint64 *toks, int n)
{
	uint64		h = UINT64CONST(0x9e3779b97f4a7c15) * (uint64) n;

	for (int i = 0; i < n; i++)
	{
		int			r = 17 * (n - 1 - i);

		h ^= r ? (toks[i] << r | toks[i] >> (64 - r)) : toks[i];
	}
	return h | 1;				/* never 0, the empty-slot marker */
}

/* lexicon.c: the intent phrases, matched on token n-grams */
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

/* prompt.c: keys and intents of one prompt */
extern void ls_analyze_prompt(const char *s, int len, LsPromptInfo *info);

#endif							/* LS_PROMPT_H */
