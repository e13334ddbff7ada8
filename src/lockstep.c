/*
 * lockstep.c
 *	  Module entry point.
 */
#include "postgres.h"

#include "fmgr.h"
#include "sqlapi.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Load time: register the GUCs. */
void
_PG_init(void)
{
	ls_define_gucs();
}
