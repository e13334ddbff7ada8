/*
 * hashing.h
 *	  Hashing used by every sketch: XXH3 for byte strings, a cheap
 *	  order-sensitive mixer for token n-grams.
 */
#ifndef LS_HASHING_H
#define LS_HASHING_H

#define XXH_INLINE_ALL
#include <xxhash.h>

/* Hash a byte string; the seed separates the infra kinds. */
static inline uint64
ls_hash_bytes(const void *p, size_t len, uint64 seed)
{
	return (uint64) XXH3_64bits_withSeed(p, len, (XXH64_hash_t) seed);
}

/* A model's identity in a fingerprint: the hash of all of its name. */
static inline uint64
ls_model_hash(const void *name, size_t len)
{
	return ls_hash_bytes(name, len, 0);
}

/* Final avalanche (Murmur3 fmix64): makes every output bit depend on all. */
static inline uint64
ls_fmix64(uint64 k)
{
	k ^= k >> 33;
	k *= UINT64CONST(0xff51afd7ed558ccd);
	k ^= k >> 33;
	k *= UINT64CONST(0xc4ceb9fe1a85ec53);
	k ^= k >> 33;
	return k;
}

/* Extend an n-gram hash by one token; order-sensitive. */
static inline uint64
ls_hash_extend(uint64 h, uint64 tok)
{
	h = (h << 23 | h >> 41) ^ tok;
	return h * UINT64CONST(0x9e3779b97f4a7c15);
}

#endif							/* LS_HASHING_H */
