/*
 * prompt.c
 *	  What one prompt contributes to a fingerprint: its elicitation
 *	  intents (lexicon.c) and its scaffold keys, in one pass over its
 *	  tokens.
 *
 * Scaffold keys: one-permutation MinHash of the prompt's shingles of
 * LS_SHINGLE tokens into LS_KEYS_PER_PROMPT bins; a bin's minimum is the
 * same for two prompts built on one scaffold with probability about the
 * shingle Jaccard of the prompts, so a scaffold shows up as a key that
 * recurs across an account's prompts.
 *
 * Pure code: no fmgr.
 */
#include "prompt.h"
#include "lexicon.h"
#include "normalize.h"

#include "miscadmin.h"

/*
 * Analyze one prompt: its intents, and its scaffold keys (the minimum
 * shingle hash of each bin; none when the prompt has fewer than
 * LS_MIN_TOKENS tokens).
 */
void
ls_analyze_prompt(const char *s, int len, LsPromptInfo *info)
{
	LsTokenizer t;
	uint64		win[LS_LEX_MAX_NGRAM] = {0};	/* last tokens, newest last */
	int			ntok = 0;
	uint32		intents = 0;
	uint64		mins[LS_KEYS_PER_PROMPT];
	int			nkeys = 0;

	ls_lexicon_load();
	for (int b = 0; b < LS_KEYS_PER_PROMPT; b++)
		mins[b] = PG_UINT64_MAX;
	ls_tokenizer_init(&t, s, len, false);
	while (ls_next_token(&t))
	{
		/* shifted by hand: a memmove of 24 bytes is a library call here */
		for (int i = 0; i < LS_LEX_MAX_NGRAM - 1; i++)
			win[i] = win[i + 1];
		win[LS_LEX_MAX_NGRAM - 1] = t.hash;
		ntok++;

		if (ls_lexicon_may_end(t.hash))
			intents |= ls_lexicon_match(win, ntok);
		if (ntok >= LS_SHINGLE)
		{
			uint64		h = ls_ngram_hash(win + LS_LEX_MAX_NGRAM - LS_SHINGLE, LS_SHINGLE);
			int			b = h >> (64 - LS_KEY_BIN_BITS);

			mins[b] = Min(mins[b], h);
		}
		if ((ntok & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
	}

	info->intents = intents;
	if (ntok >= LS_MIN_TOKENS)
		for (int b = 0; b < LS_KEYS_PER_PROMPT; b++)
			if (mins[b] != PG_UINT64_MAX)
				info->keys[nkeys++] = (uint32) (mins[b] >> 32);
	info->n_keys = nkeys;
}
