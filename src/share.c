/*
 * share.c
 *	  What sharing a campaign needs from C: name-based UUIDs (version 5,
 *	  SHA-1, RFC 9562), so that exporting the same campaign again gives
 *	  the same STIX ids.
 */
#include "postgres.h"

#include "common/cryptohash.h"
#include "common/sha1.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/uuid.h"

PG_FUNCTION_INFO_V1(lockstep_uuid5);

/* The version 5 UUID of name in namespace. */
Datum
lockstep_uuid5(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *ns = PG_GETARG_UUID_P(0);
	text	   *name = PG_GETARG_TEXT_PP(1);
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA1);
	uint8		digest[SHA1_DIGEST_LENGTH];
	pg_uuid_t  *result = palloc(sizeof(pg_uuid_t));

	if (ctx == NULL ||
		pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, ns->data, UUID_LEN) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name)) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute SHA-1: %s", pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
	memcpy(result->data, digest, UUID_LEN);
	result->data[6] = (result->data[6] & 0x0f) | 0x50;	/* version 5 */
	result->data[8] = (result->data[8] & 0x3f) | 0x80;	/* variant RFC 9562 */
	PG_RETURN_UUID_P(result);
}
