/*
 * prompt.h
 *	  prompt.c: what one prompt contributes to a fingerprint, its scaffold
 *	  keys and its intents.  Pure code: no fmgr.
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

/* What one prompt contributes, computed by ls_analyze_prompt. */
typedef struct LsPromptInfo
{
	int			n_keys;
	uint32		keys[LS_KEYS_PER_PROMPT];	/* one a non-empty bin: its top 32 bits */
	uint32		intents;		/* bit i set: intent i present */
} LsPromptInfo;

extern void ls_analyze_prompt(const char *s, int len, LsPromptInfo *info);

#endif							/* LS_PROMPT_H */
