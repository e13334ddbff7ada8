/*
 * normalize.h
 *	  normalize.c: the tokenizer that prompt_template and the aggregate
 *	  share, and the hash of a run of its tokens.  Pure code: no fmgr.
 */
#ifndef LS_NORMALIZE_H
#define LS_NORMALIZE_H

#include "postgres.h"

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

#endif							/* LS_NORMALIZE_H */
