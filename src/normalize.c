/*
 * normalize.c
 *	  The prompt tokenizer and normalizer: one pass over UTF-8 bytes that
 *	  yields lowercased tokens with variable parts masked.
 *
 * Token rules, applied at each non-space position in this order:
 *	- CJK ideographs, kana, hangul and full-width forms: one token a char;
 *	- http://, https://, www. up to white space: <url>;
 *	- local@domain.tld: <email>;
 *	- 8-4-4-4-12 hex digits: <uuid>;
 *	- a run of letters, digits and '_' (any non-ASCII letter counts):
 *	  digits with optional [.,]digit groups -> <num>, 0x-prefixed hex or
 *	  hex of 8+ chars mixing digits and letters -> <hex>, longer than
 *	  LS_TOKEN_MAX bytes -> <blob>, else the word lowercased;
 *	- any other character: a punctuation token of its own.
 * Pure code: no fmgr, no allocation.  Invalid UTF-8 bytes are taken as
 * one-byte letters, so any byte string tokenizes without error.
 */
#include "normalize.h"
#include "hashing.h"

/* Length of the UTF-8 sequence at p (1 for invalid or truncated ones). */
static inline int
utf8_len(const unsigned char *p, const unsigned char *end)
{
	int			n;

	if (p[0] < 0x80)
		return 1;
	else if ((p[0] & 0xE0) == 0xC0)
		n = 2;
	else if ((p[0] & 0xF0) == 0xE0)
		n = 3;
	else if ((p[0] & 0xF8) == 0xF0)
		n = 4;
	else
		return 1;
	if (end - p < n)
		return 1;
	for (int i = 1; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 1;
	return n;
}

/* Code point of a valid sequence of length n. */
static inline uint32
utf8_cp(const unsigned char *p, int n)
{
	switch (n)
	{
		case 2:
			return ((p[0] & 0x1F) << 6) | (p[1] & 0x3F);
		case 3:
			return ((p[0] & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
		case 4:
			return ((p[0] & 0x07) << 18) | ((p[1] & 0x3F) << 12) |
				((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
		default:
			return p[0];
	}
}

/* Scripts written without spaces: tokenized one character at a time. */
static inline bool
cp_is_cjk(uint32 c)
{
	return (c >= 0x3040 && c <= 0x30FF) ||	/* hiragana, katakana */
		(c >= 0x3400 && c <= 0x4DBF) || /* CJK extension A */
		(c >= 0x4E00 && c <= 0x9FFF) || /* CJK unified ideographs */
		(c >= 0xAC00 && c <= 0xD7AF) || /* hangul syllables */
		(c >= 0xF900 && c <= 0xFAFF) || /* CJK compatibility */
		(c >= 0xFF00 && c <= 0xFFEF) || /* full-width forms */
		(c >= 0x20000 && c <= 0x2FFFF); /* supplementary ideographs */
}

/* Non-ASCII punctuation and symbols that must not glue words together. */
static inline bool
cp_is_punct(uint32 c)
{
	return (c >= 0x00A1 && c <= 0x00BF) ||
		(c >= 0x2000 && c <= 0x2BFF) || /* general punct, arrows, math */
		(c >= 0x3000 && c <= 0x303F) || /* CJK symbols and punctuation */
		(c >= 0x1F000 && c <= 0x1FAFF); /* emoji */
}

/* White space: ASCII, NBSP and the ideographic space. */
static inline int
space_len(const unsigned char *p, const unsigned char *end)
{
	if (*p == ' ' || (*p >= '\t' && *p <= '\r'))
		return 1;
	if (p[0] == 0xC2 && end - p >= 2 && p[1] == 0xA0)
		return 2;
	if (p[0] == 0xE3 && end - p >= 3 && p[1] == 0x80 && p[2] == 0x80)
		return 3;
	return 0;
}

/*
 * ASCII character classes; C_UPPER is also the bit that lowercases.  Bytes
 * 0x80 and up have no class, so a lookup needs no range check.
 */
#define C_WORD	0x01			/* letter, digit or '_' */
#define C_DIGIT 0x02
#define C_HEX	0x04
#define C_ALPHA 0x08			/* letter or '_' */
#define C_UPPER 0x20

static const uint8 ascii_class[256] = {
	['0'] = C_WORD | C_DIGIT | C_HEX, ['1'] = C_WORD | C_DIGIT | C_HEX,
	['2'] = C_WORD | C_DIGIT | C_HEX, ['3'] = C_WORD | C_DIGIT | C_HEX,
	['4'] = C_WORD | C_DIGIT | C_HEX, ['5'] = C_WORD | C_DIGIT | C_HEX,
	['6'] = C_WORD | C_DIGIT | C_HEX, ['7'] = C_WORD | C_DIGIT | C_HEX,
	['8'] = C_WORD | C_DIGIT | C_HEX, ['9'] = C_WORD | C_DIGIT | C_HEX,
	['a'] = C_WORD | C_HEX | C_ALPHA, ['b'] = C_WORD | C_HEX | C_ALPHA,
	['c'] = C_WORD | C_HEX | C_ALPHA, ['d'] = C_WORD | C_HEX | C_ALPHA,
	['e'] = C_WORD | C_HEX | C_ALPHA, ['f'] = C_WORD | C_HEX | C_ALPHA,
	['A'] = C_WORD | C_HEX | C_ALPHA | C_UPPER, ['B'] = C_WORD | C_HEX | C_ALPHA | C_UPPER,
	['C'] = C_WORD | C_HEX | C_ALPHA | C_UPPER, ['D'] = C_WORD | C_HEX | C_ALPHA | C_UPPER,
	['E'] = C_WORD | C_HEX | C_ALPHA | C_UPPER, ['F'] = C_WORD | C_HEX | C_ALPHA | C_UPPER,
	['g'] = C_WORD | C_ALPHA, ['h'] = C_WORD | C_ALPHA, ['i'] = C_WORD | C_ALPHA,
	['j'] = C_WORD | C_ALPHA, ['k'] = C_WORD | C_ALPHA, ['l'] = C_WORD | C_ALPHA,
	['m'] = C_WORD | C_ALPHA, ['n'] = C_WORD | C_ALPHA, ['o'] = C_WORD | C_ALPHA,
	['p'] = C_WORD | C_ALPHA, ['q'] = C_WORD | C_ALPHA, ['r'] = C_WORD | C_ALPHA,
	['s'] = C_WORD | C_ALPHA, ['t'] = C_WORD | C_ALPHA, ['u'] = C_WORD | C_ALPHA,
	['v'] = C_WORD | C_ALPHA, ['w'] = C_WORD | C_ALPHA, ['x'] = C_WORD | C_ALPHA,
	['y'] = C_WORD | C_ALPHA, ['z'] = C_WORD | C_ALPHA,
	['G'] = C_WORD | C_ALPHA | C_UPPER, ['H'] = C_WORD | C_ALPHA | C_UPPER,
	['I'] = C_WORD | C_ALPHA | C_UPPER, ['J'] = C_WORD | C_ALPHA | C_UPPER,
	['K'] = C_WORD | C_ALPHA | C_UPPER, ['L'] = C_WORD | C_ALPHA | C_UPPER,
	['M'] = C_WORD | C_ALPHA | C_UPPER, ['N'] = C_WORD | C_ALPHA | C_UPPER,
	['O'] = C_WORD | C_ALPHA | C_UPPER, ['P'] = C_WORD | C_ALPHA | C_UPPER,
	['Q'] = C_WORD | C_ALPHA | C_UPPER, ['R'] = C_WORD | C_ALPHA | C_UPPER,
	['S'] = C_WORD | C_ALPHA | C_UPPER, ['T'] = C_WORD | C_ALPHA | C_UPPER,
	['U'] = C_WORD | C_ALPHA | C_UPPER, ['V'] = C_WORD | C_ALPHA | C_UPPER,
	['W'] = C_WORD | C_ALPHA | C_UPPER, ['X'] = C_WORD | C_ALPHA | C_UPPER,
	['Y'] = C_WORD | C_ALPHA | C_UPPER, ['Z'] = C_WORD | C_ALPHA | C_UPPER,
	['_'] = C_WORD | C_ALPHA,
};

static inline bool
is_word_ascii(unsigned char c)
{
	return (ascii_class[c] & C_WORD) != 0;
}

static inline bool
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Are all bytes in [p, q) hex digits? */
static bool
all_hex(const unsigned char *p, const unsigned char *q)
{
	for (; p < q; p++)
		if (!is_hex(*p))
			return false;
	return true;
}

/*
 * Copy one character to dst lowercased: ASCII, Latin-1, Greek and basic
 * Cyrillic capitals.  Returns bytes written (equal to n).
 */
static inline int
copy_lower(char *dst, const unsigned char *p, int n)
{
	if (n == 1)
	{
		dst[0] = (p[0] >= 'A' && p[0] <= 'Z') ? p[0] + 32 : p[0];
		return 1;
	}
	dst[0] = p[0];
	dst[1] = p[1];
	if (n == 2)
	{
		uint32		c = utf8_cp(p, 2);

		if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
			dst[1] = p[1] + 0x20;	/* stays within C3 80..BF */
		else if (c >= 0x410 && c <= 0x41F)
			dst[1] = p[1] + 0x20;	/* D0 90.. -> D0 B0.. */
		else if (c >= 0x420 && c <= 0x42F)
		{
			dst[0] = (char) 0xD1;
			dst[1] = p[1] - 0x20;	/* D0 A0.. -> D1 80.. */
		}
		else if (c >= 0x391 && c <= 0x39F)
			dst[1] = p[1] + 0x20;	/* CE 91.. -> CE B1.. */
		else if (c >= 0x3A0 && c <= 0x3A9 && c != 0x3A2)
		{
			dst[0] = (char) 0xCF;
			dst[1] = p[1] - 0x20;	/* CE A0.. -> CF 80.. */
		}
		return 2;
	}
	for (int i = 2; i < n; i++)
		dst[i] = p[i];
	return n;
}

/* Step of the token hash: rotate-xor, one cycle a byte. */
#define HASH_STEP(h, c) ((h) = ((h) << 7 | (h) >> 57) ^ (unsigned char) (c))

/* Finish a token hash: mix in the length, then avalanche. */
static inline uint64
hash_finish(uint64 h, int len)
{
	return ls_fmix64(h + (uint64) len);
}

/* Hash of the token text already in t->buf. */
static inline void
hash_buf(LsTokenizer *t)
{
	uint64		h = 0;

	for (int i = 0; i < t->len; i++)
		HASH_STEP(h, t->buf[i]);
	t->hash = hash_finish(h, t->len);
}

/* Start tokenizing s[0..len). */
void
ls_tokenizer_init(LsTokenizer *t, const char *s, int len, bool text)
{
	t->text = text;
	t->p = (const unsigned char *) s;
	t->end = t->p + len;
	t->len = 0;
	t->space_before = false;
	/* one fast scan saves an e-mail match attempt at every word */
	t->may_email = memchr(s, '@', len) != NULL;
	t->no_email_before = t->p;
}

/* Set the token to a placeholder. */
static inline void
set_placeholder(LsTokenizer *t, const char *text, int n)
{
	memcpy(t->buf, text, n);
	t->len = n;
	hash_buf(t);
}

/* Does a URL start at p? Returns the prefix length or 0. */
static int
url_prefix(const unsigned char *p, const unsigned char *end)
{
	static const char *const prefixes[] = {"https://", "http://", "www."};

	if (end - p < 4 ||
		!(((*p | 0x20) == 'h' && (p[1] | 0x20) == 't') ||
		  ((*p | 0x20) == 'w' && (p[1] | 0x20) == 'w')))
		return 0;
	for (int i = 0; i < 3; i++)
	{
		int			n = strlen(prefixes[i]);

		if (end - p >= n && pg_strncasecmp((const char *) p, prefixes[i], n) == 0)
			return n;
	}
	return 0;
}

/*
 * End of an e-mail address starting at p, or NULL.  On failure, *stop is
 * where the local part's scan stopped: an address starting anywhere
 * before it would stop there too and fail the same way, so the caller
 * tries no start before *stop again.  That keeps a prompt of many short
 * words and one '@' linear instead of rescanning the rest of the word at
 * every word.
 */
static const unsigned char *
match_email(const unsigned char *p, const unsigned char *end, const unsigned char **stop)
{
	const unsigned char *q = p;
	const unsigned char *lastdot = NULL;
	const unsigned char *domain;

	while (q < end && (is_word_ascii(*q) || *q == '.' || *q == '%' ||
					   *q == '+' || *q == '-'))
		q++;
	*stop = q;
	if (q == p || q >= end || *q != '@')
		return NULL;
	domain = ++q;
	while (q < end && (is_word_ascii(*q) || *q == '.' || *q == '-'))
	{
		if (*q == '.' && q + 1 < end && is_word_ascii(q[1]))
			lastdot = q;
		q++;
	}
	if (lastdot == NULL || lastdot == domain || q - lastdot < 3)
		return NULL;
	/* a trailing dot ends the sentence, not the address */
	while (q[-1] == '.' || q[-1] == '-')
		q--;
	return q;
}

/* End of a UUID starting at p, or NULL. */
static const unsigned char *
match_uuid(const unsigned char *p, const unsigned char *end)
{
	static const int groups[] = {8, 4, 4, 4, 12};
	const unsigned char *q = p;

	for (int g = 0; g < 5; g++)
	{
		for (int i = 0; i < groups[g]; i++, q++)
			if (q >= end || !is_hex(*q))
				return NULL;
		if (g < 4)
		{
			if (q >= end || *q != '-')
				return NULL;
			q++;
		}
	}
	if (q < end && is_word_ascii(*q))
		return NULL;
	return q;
}

/*
 * The hot loop: a run of ASCII word characters from q, lowercased into the
 * token (text only if the caller wants it) and its hash.  Returns the end
 * of the run; *and_cls and *or_cls gather the classes of its characters.
 */
static pg_attribute_always_inline const unsigned char *
ascii_run(LsTokenizer *t, const unsigned char *q, const unsigned char *end,
		  int *out, uint64 *h, uint8 *and_cls, uint8 *or_cls, bool text)
{
	uint8		cls = ascii_class[*q];
	int			o = *out;
	uint64		hh = *h;

	do
	{
		char		lc = *q | (cls & C_UPPER);

		*and_cls &= cls;
		*or_cls |= cls;
		if (text && o < LS_TOKEN_MAX)
			t->buf[o] = lc;
		HASH_STEP(hh, lc);
		o++;
		if (++q == end)
			break;
		cls = ascii_class[*q];
	} while (cls & C_WORD);
	*out = o;
	*h = hh;
	return q;
}

/*
 * Advance to the next token.  Returns false at the end of input.  The
 * token text is in t->buf[0..t->len), not NUL-terminated.
 */
bool
ls_next_token(LsTokenizer *t)
{
	const unsigned char *p = t->p;
	const unsigned char *end = t->end;
	const unsigned char *q;
	int			n;
	int			plen;
	uint32		c;

	t->space_before = false;
	while (p < end && (n = space_len(p, end)) > 0)
	{
		p += n;
		t->space_before = true;
	}
	if (p >= end)
	{
		t->p = p;
		return false;
	}

	/*
	 * ASCII punctuation, one character a token: the common case of
	 * separator-heavy text, decided before the URL, e-mail, UUID and word
	 * checks, none of which can start here (only '.', '%', '+' and '-' can
	 * start an e-mail address).  The hash is the general path's.
	 */
	if (*p < 0x80 && !(ascii_class[*p] & C_WORD) &&
		!(t->may_email && p >= t->no_email_before &&
		  (*p == '.' || *p == '%' || *p == '+' || *p == '-')))
	{
		t->buf[0] = *p;
		t->len = 1;
		t->hash = hash_finish((uint64) *p, 1);
		t->p = p + 1;
		return true;
	}

	/*
	 * A one-letter word ("a", "I", "x"), ASCII on both sides: no URL,
	 * UUID or number starts so, and an e-mail only where one may; the
	 * token and hash are the word path's.
	 */
	if ((ascii_class[*p] & C_ALPHA) &&
		(p + 1 == end || !(ascii_class[p[1]] & C_WORD)) &&
		(p + 1 == end || p[1] < 0x80) &&
		!(t->may_email && p >= t->no_email_before))
	{
		char		lc = *p | (ascii_class[*p] & C_UPPER);

		t->buf[0] = lc;
		t->len = 1;
		t->hash = hash_finish((uint64) (unsigned char) lc, 1);
		t->p = p + 1;
		return true;
	}

	n = utf8_len(p, end);
	c = utf8_cp(p, n);

	if (n > 1 && cp_is_cjk(c))
	{
		t->len = copy_lower(t->buf, p, n);
		hash_buf(t);
		t->p = p + n;
		return true;
	}

	if ((plen = url_prefix(p, end)) > 0)
	{
		q = p + plen;
		while (q < end && space_len(q, end) == 0)
			q++;
		/* trailing punctuation belongs to the sentence */
		while (q > p + plen && strchr(".,;:!?)]}'\"", q[-1]) != NULL)
			q--;
		set_placeholder(t, "<url>", 5);
		t->p = q;
		return true;
	}

	if (t->may_email && p >= t->no_email_before &&
		(is_word_ascii(*p) || *p == '.' || *p == '%' || *p == '+' || *p == '-'))
	{
		if ((q = match_email(p, end, &t->no_email_before)) != NULL)
		{
			set_placeholder(t, "<email>", 7);
			t->p = q;
			return true;
		}
	}

	if (end - p >= 36 && p[8] == '-' && is_hex(*p) && (q = match_uuid(p, end)) != NULL)
	{
		set_placeholder(t, "<uuid>", 6);
		t->p = q;
		return true;
	}

	if (is_word_ascii(*p) || (*p >= 0x80 && !cp_is_punct(c)))
	{
		bool		digits = true;
		bool		hexchars = true;
		bool		has_digit = false;
		bool		has_alpha = false;
		uint64		h = 0;
		int			out = 0;

		q = p;
		while (q < end)
		{
			if (ascii_class[*q] & C_WORD)
			{
				uint8		and_cls = C_DIGIT | C_HEX;
				uint8		or_cls = 0;

				q = t->text ? ascii_run(t, q, end, &out, &h, &and_cls, &or_cls, true)
					: ascii_run(t, q, end, &out, &h, &and_cls, &or_cls, false);
				digits &= (and_cls & C_DIGIT) != 0;
				hexchars &= (and_cls & C_HEX) != 0;
				has_digit |= (or_cls & C_DIGIT) != 0;
				has_alpha |= (or_cls & C_ALPHA) != 0;
			}
			else if (*q >= 0x80)
			{
				n = utf8_len(q, end);
				c = utf8_cp(q, n);
				if ((n > 1 && cp_is_cjk(c)) || cp_is_punct(c) || space_len(q, end))
					break;
				digits = hexchars = false;
				has_alpha = true;
				if (out + n <= LS_TOKEN_MAX)
				{
					copy_lower(t->buf + out, q, n);
					for (int i = 0; i < n; i++)
						HASH_STEP(h, t->buf[out + i]);
				}
				out += n;
				q += n;
			}
			else if (digits && (*q == '.' || *q == ',') && q + 1 < end &&
					 is_digit(q[1]))
			{
				/* 1,000.50: group and decimal separators inside a number */
				if (out < LS_TOKEN_MAX)
					t->buf[out] = *q;
				HASH_STEP(h, *q);
				q++;
				out++;
			}
			else
				break;
		}
		t->p = q;
		if (digits)
			set_placeholder(t, "<num>", 5);
		else if ((out > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
				  q - p == out && all_hex(p + 2, q)) ||
				 (hexchars && out >= 8 && has_digit && has_alpha))
			set_placeholder(t, "<hex>", 5);
		else if (out > LS_TOKEN_MAX)
			set_placeholder(t, "<blob>", 6);
		else
		{
			t->len = out;
			t->hash = hash_finish(h, out);
		}
		return true;
	}

	/* anything else is punctuation, one character a token */
	t->len = copy_lower(t->buf, p, n);
	hash_buf(t);
	t->p = p + n;
	return true;
}
