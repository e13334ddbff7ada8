/*
 * lexicon.c
 *	  The intent lexicon, and the token n-gram hash it shares with the
 *	  content shingles.
 *
 * The lexicon is the one place that says what counts as each elicitation
 * intent.  Phrases are written as plain text and go through the same
 * tokenizer as prompts (so numbers are <num>, case is folded, Chinese is
 * one token a character); a phrase of up to four tokens matches when the
 * same token sequence occurs anywhere in a prompt.  Matching costs four
 * hash probes per token, whatever the lexicon's size.
 *
 * Pure code: no fmgr.
 */
#include "lexicon.h"
#include "normalize.h"

const char *const ls_intent_names[LS_N_INTENTS] = {
	"chain_of_thought", "rubric_grading", "tool_use", "code",
	"safe_rewrite", "vision_computer_use"
};

typedef struct LexEntry
{
	LsIntent	intent;
	const char *phrase;
} LexEntry;

/* The lexicon: English and Chinese phrases, four tokens at most. */
static const LexEntry lexicon[] = {
	/* chain-of-thought elicitation */
	{LS_INTENT_COT, "step by step"},
	{LS_INTENT_COT, "chain of thought"},
	{LS_INTENT_COT, "show your reasoning"},
	{LS_INTENT_COT, "explain your reasoning"},
	{LS_INTENT_COT, "reason through"},
	{LS_INTENT_COT, "think carefully"},
	{LS_INTENT_COT, "let's think"},
	{LS_INTENT_COT, "show your work"},
	{LS_INTENT_COT, "thought process"},
	{LS_INTENT_COT, "internal reasoning"},
	{LS_INTENT_COT, "full reasoning"},
	{LS_INTENT_COT, "reasoning trace"},
	{LS_INTENT_COT, "逐步"},
	{LS_INTENT_COT, "一步一步"},
	{LS_INTENT_COT, "思考过程"},
	{LS_INTENT_COT, "推理过程"},
	{LS_INTENT_COT, "思维链"},
	/* rubric grading, reward-model style */
	{LS_INTENT_RUBRIC, "rubric"},
	{LS_INTENT_RUBRIC, "grade the response"},
	{LS_INTENT_RUBRIC, "grade this response"},
	{LS_INTENT_RUBRIC, "score the response"},
	{LS_INTENT_RUBRIC, "rate the response"},
	{LS_INTENT_RUBRIC, "on a scale of"},
	{LS_INTENT_RUBRIC, "which response is better"},
	{LS_INTENT_RUBRIC, "reward model"},
	{LS_INTENT_RUBRIC, "grading criteria"},
	{LS_INTENT_RUBRIC, "evaluate the response"},
	{LS_INTENT_RUBRIC, "评分"},
	{LS_INTENT_RUBRIC, "打分"},
	{LS_INTENT_RUBRIC, "哪个回答"},
	/* tool-use schemas and agentic traces */
	{LS_INTENT_TOOL, "\"parameters\""},
	{LS_INTENT_TOOL, "\"function\""},
	{LS_INTENT_TOOL, "\"arguments\""},
	{LS_INTENT_TOOL, "tool_call"},
	{LS_INTENT_TOOL, "tool_calls"},
	{LS_INTENT_TOOL, "function_call"},
	{LS_INTENT_TOOL, "json schema"},
	{LS_INTENT_TOOL, "call the tool"},
	{LS_INTENT_TOOL, "use the tool"},
	{LS_INTENT_TOOL, "available tools"},
	{LS_INTENT_TOOL, "工具调用"},
	{LS_INTENT_TOOL, "调用工具"},
	{LS_INTENT_TOOL, "函数调用"},
	/* code */
	{LS_INTENT_CODE, "```"},
	{LS_INTENT_CODE, "def"},
	{LS_INTENT_CODE, "#include"},
	{LS_INTENT_CODE, "import numpy"},
	{LS_INTENT_CODE, "public static"},
	{LS_INTENT_CODE, "console.log"},
	{LS_INTENT_CODE, "fn main"},
	{LS_INTENT_CODE, "write a function"},
	{LS_INTENT_CODE, "python code"},
	{LS_INTENT_CODE, "unit tests"},
	{LS_INTENT_CODE, "代码"},
	{LS_INTENT_CODE, "函数"},
	/* rewrites of sensitive requests into "safe" answers */
	{LS_INTENT_REWRITE, "rewrite this"},
	{LS_INTENT_REWRITE, "rephrase"},
	{LS_INTENT_REWRITE, "safer version"},
	{LS_INTENT_REWRITE, "safe version"},
	{LS_INTENT_REWRITE, "harmless version"},
	{LS_INTENT_REWRITE, "without refusing"},
	{LS_INTENT_REWRITE, "policy-compliant"},
	{LS_INTENT_REWRITE, "in a safe way"},
	{LS_INTENT_REWRITE, "改写"},
	{LS_INTENT_REWRITE, "换个说法"},
	{LS_INTENT_REWRITE, "安全回答"},
	/* vision and computer use */
	{LS_INTENT_VISION, "this image"},
	{LS_INTENT_VISION, "the image"},
	{LS_INTENT_VISION, "screenshot"},
	{LS_INTENT_VISION, "click on"},
	{LS_INTENT_VISION, "click the"},
	{LS_INTENT_VISION, "computer use"},
	{LS_INTENT_VISION, "the screen"},
	{LS_INTENT_VISION, "图片"},
	{LS_INTENT_VISION, "截图"},
	{LS_INTENT_VISION, "点击"},
};

#define LEX_SLOTS		512		/* power of two, > 2 x entries */

/* The phrase table: n-gram hash -> intent bits.  Built once, then read-only. */
static uint64 lex_hash[LEX_SLOTS];
static uint32 lex_bits[LEX_SLOTS];
/* Bitmap of the tokens that end some phrase: most tokens skip the probes. */
uint64		ls_lex_final[LS_LEX_FINAL_WORDS];
static bool lex_ready = false;


/* Fill the phrase table from the lexicon. */
static void
lex_build(void)
{
	StaticAssertStmt(lengthof(lexicon) * 2 < LEX_SLOTS, "lexicon table too small");
	for (int e = 0; e < (int) lengthof(lexicon); e++)
	{
		LsTokenizer t;
		uint64		toks[LS_LEX_MAX_NGRAM];
		int			n = 0;
		uint64		h;
		uint32		slot;

		ls_tokenizer_init(&t, lexicon[e].phrase, strlen(lexicon[e].phrase), false);
		while (ls_next_token(&t))
		{
			if (n == LS_LEX_MAX_NGRAM)
				elog(ERROR, "lexicon phrase \"%s\" is longer than %d tokens",
					 lexicon[e].phrase, LS_LEX_MAX_NGRAM);
			toks[n++] = t.hash;
		}
		Assert(n > 0);
		ls_lex_final[LS_LEX_FINAL_BIT(toks[n - 1]) >> 6] |= UINT64CONST(1) << (LS_LEX_FINAL_BIT(toks[n - 1]) & 63);
		h = ls_ngram_hash(toks, n);
		for (slot = h & (LEX_SLOTS - 1); lex_hash[slot] != 0 && lex_hash[slot] != h;
			 slot = (slot + 1) & (LEX_SLOTS - 1))
			;
		lex_hash[slot] = h;
		lex_bits[slot] |= 1u << lexicon[e].intent;
	}
	lex_ready = true;
}

/* Intent bits of an n-gram hash, 0 if it is no phrase. */
static inline uint32
lex_lookup(uint64 h)
{
	for (uint32 slot = h & (LEX_SLOTS - 1); lex_hash[slot] != 0;
		 slot = (slot + 1) & (LEX_SLOTS - 1))
		if (lex_hash[slot] == h)
			return lex_bits[slot];
	return 0;
}

/* Build the phrase table once per backend; the lexicon is constant. */
void
ls_lexicon_load(void)
{
	if (!lex_ready)
		lex_build();
}

/*
 * Intent bits of the phrases that end at the newest token of win, the
 * last LS_LEX_MAX_NGRAM token hashes (newest last) of a prompt whose
 * first ntok tokens have been read.  Callers ask only for tokens that
 * ls_lexicon_may_end lets through, after ls_lexicon_load.
 */
uint32
ls_lexicon_match(const uint64 *win, int ntok)
{
	uint32		intents = 0;

	for (int n = 1; n <= LS_LEX_MAX_NGRAM && n <= ntok; n++)
		intents |= lex_lookup(ls_ngram_hash(win + LS_LEX_MAX_NGRAM - n, n));
	return intents;
}

/* Number of lexicon entries, for lockstep_lexicon(). */
int
ls_lexicon_size(void)
{
	return lengthof(lexicon);
}

/* Entry i of the lexicon. */
void
ls_lexicon_entry(int i, const char **intent, const char **phrase)
{
	Assert(i >= 0 && i < (int) lengthof(lexicon));
	*intent = ls_intent_names[lexicon[i].intent];
	*phrase = lexicon[i].phrase;
}
