/*
 * refresh.c
 *	  The daily stage of a refresh on every core: the UTC days to store are
 *	  handed out to background workers, each of which stores whole days
 *	  with lockstep_store_day and commits each.
 *
 * Why days, and why background workers.  PostgreSQL 15 plans no parallel
 * workers for INSERT ... SELECT, and a parallel aggregate of fingerprints
 * gains nothing: a day holds a few rows per account, and serializing and
 * combining the partial states costs more than the rows (measured: 1.1 s
 * against 0.8 s serial for a week of the 1M-row log).  Days are
 * independent, and a day computed whole by one process gives the bytes
 * the serial refresh gives (the merge law in sketch.c holds anyway).
 *
 * The leader (the refreshing backend) puts the days in dynamic shared
 * memory with a counter, its identity (the authenticated user, the role
 * and security context it runs with) and its settings (SerializeGUCState,
 * as parallel query does), and starts up to lockstep.refresh_workers
 * workers.  Each worker connects to the database as the leader's user,
 * takes the leader's role and settings, and takes days from the counter
 * until none is left; each day is one transaction of its own, committed
 * when stored.  The leader waits for all of them.  A worker's error is
 * copied to shared memory, the other workers stop at their next day, and
 * the leader raises it; a cancel of the leader (or its statement_timeout)
 * terminates the workers, whose day in progress rolls back.  A day that
 * no worker took (no free worker slot) is not returned: the refresh
 * stores it itself.
 *
 * The refresh holds its lock (the config row) while the workers run; they
 * do not need it.  Days already stored are deleted and stored again by the
 * worker that takes them, in its own transaction, so no worker waits for
 * the leader's transaction.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "lockstep.h"

/* One day to store, and what storing it gave. */
typedef struct LsDaySlot
{
	DateADT		day;
	bool		done;
	int64		rows;
	int64		skipped;
} LsDaySlot;

/* The shared state of one daily stage. */
typedef struct LsDayShared
{
	Oid			database;
	Oid			authenticated_user;
	Oid			outer_user;
	bool		outer_is_superuser;
	Oid			current_user;
	int			sec_context;
	Oid			config;				/* the pipeline's config table */
	char		store_day[2 * NAMEDATALEN + 32];	/* "schema".lockstep_store_day */
	pg_atomic_uint32 next;			/* the next day to take */
	pg_atomic_uint32 failed;		/* set by the first worker that fails */
	int			sqlerrcode;
	DateADT		failed_day;
	char		message[1024];
	char		detail[1024];
	int			ndays;
	Size		guc_offset;			/* the leader's settings, serialized */
	LsDaySlot	days[FLEXIBLE_ARRAY_MEMBER];
} LsDayShared;

PGDLLEXPORT void lockstep_day_worker_main(Datum main_arg);

/* Store day i of the shared list, in a transaction of its own. */
static void
store_one_day(LsDayShared *sh, int i)
{
	Oid			argtypes[2] = {REGCLASSOID, DATEOID};
	Datum		values[2];
	char		activity[64];
	StringInfoData sql;
	bool		isnull;

	values[0] = ObjectIdGetDatum(sh->config);
	values[1] = DateADTGetDatum(sh->days[i].day);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	/* allocated in the transaction: freed with it */
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT rows, skipped FROM %s($1, $2)", sh->store_day);
	snprintf(activity, sizeof(activity), "lockstep: storing day %s",
			 DatumGetCString(DirectFunctionCall1(date_out, values[1])));
	pgstat_report_activity(STATE_RUNNING, activity);
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_execute_with_args(sql.data, 2, argtypes, values, NULL, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "lockstep_store_day returned no row");
	sh->days[i].rows = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	sh->days[i].skipped = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	/* written after the commit: a day marked done is stored for good */
	pg_write_barrier();
	sh->days[i].done = true;
}

/* A background worker of the daily stage. */
void
lockstep_day_worker_main(Datum main_arg)
{
	dsm_segment *seg;
	LsDayShared *sh;
	DateADT    *current = palloc(sizeof(DateADT));	/* read after a longjmp */

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	seg = dsm_attach(DatumGetUInt32(main_arg));
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("lockstep: the daily stage's shared memory is gone")));
	sh = dsm_segment_address(seg);

	/* the leader's user, settings, role and security context */
	BackgroundWorkerInitializeConnectionByOid(sh->database, sh->authenticated_user, 0);
	StartTransactionCommand();
	RestoreGUCState((char *) sh + sh->guc_offset);
	CommitTransactionCommand();
	SetCurrentRoleId(sh->outer_user, sh->outer_is_superuser);
	SetUserIdAndSecContext(sh->current_user, sh->sec_context);

	PG_TRY();
	{
		for (;;)
		{
			uint32		i = pg_atomic_fetch_add_u32(&sh->next, 1);

			if (i >= (uint32) sh->ndays || pg_atomic_read_u32(&sh->failed) != 0)
				break;
			*current = sh->days[i].day;
			store_one_day(sh, (int) i);
		}
	}
	PG_CATCH();
	{
		uint32		expected = 0;

		/* the first failure is the one the leader reports */
		if (pg_atomic_compare_exchange_u32(&sh->failed, &expected, 1))
		{
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
			ErrorData  *edata = CopyErrorData();

			MemoryContextSwitchTo(old);
			sh->sqlerrcode = edata->sqlerrcode;
			sh->failed_day = *current;
			strlcpy(sh->message, edata->message ? edata->message : "", sizeof(sh->message));
			strlcpy(sh->detail, edata->detail ? edata->detail : "", sizeof(sh->detail));
			pg_write_barrier();
		}
		PG_RE_THROW();
	}
	PG_END_TRY();

	dsm_detach(seg);
	proc_exit(0);
}

/* Stop the workers that are still running (a cancel, an error). */
static void
terminate_all(BackgroundWorkerHandle **handles, int n)
{
	for (int w = 0; w < n; w++)
		if (handles[w] != NULL)
			TerminateBackgroundWorker(handles[w]);
}

PG_FUNCTION_INFO_V1(lockstep_store_days);

/*
 * lockstep_store_days(config regclass, days date[], workers int)
 *	  -> setof (day, rows, skipped): the days stored, by up to workers
 *	  background workers.
 */
Datum
lockstep_store_days(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			config = PG_GETARG_OID(0);
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(1);
	int32		workers = PG_GETARG_INT32(2);
	Datum	   *elems;
	bool	   *nulls;
	int			ndays;
	Size		guc_size;
	Size		size;
	dsm_segment *seg;
	LsDayShared *sh;
	Oid			ext_schema;
	/* on the heap: read after a longjmp (PG_FINALLY) */
	BackgroundWorkerHandle **handles;
	int		   *started;

	InitMaterializedSRF(fcinfo, 0);
	if (workers < 0 || workers > LS_MAX_REFRESH_WORKERS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("workers must be from 0 to %d, not %d", LS_MAX_REFRESH_WORKERS, workers)));
	deconstruct_array(arr, DATEOID, sizeof(DateADT), true, TYPALIGN_INT, &elems, &nulls, &ndays);
	for (int i = 0; i < ndays; i++)
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("the days to store must not be NULL")));
	if (ndays == 0 || workers == 0)
		return (Datum) 0;

	/* the shared state: the days, the leader's identity and settings */
	guc_size = EstimateGUCStateSpace();
	size = MAXALIGN(offsetof(LsDayShared, days) + ndays * sizeof(LsDaySlot));
	seg = dsm_create(size + guc_size, 0);
	sh = dsm_segment_address(seg);
	memset(sh, 0, size);
	sh->database = MyDatabaseId;
	sh->authenticated_user = GetAuthenticatedUserId();
	sh->outer_user = GetOuterUserId();
	sh->outer_is_superuser = superuser_arg(sh->outer_user);
	GetUserIdAndSecContext(&sh->current_user, &sh->sec_context);
	sh->config = config;
	/* lockstep_store_day lives in this function's schema */
	ext_schema = get_func_namespace(fcinfo->flinfo->fn_oid);
	snprintf(sh->store_day, sizeof(sh->store_day), "%s.lockstep_store_day",
			 quote_identifier(get_namespace_name(ext_schema)));
	pg_atomic_init_u32(&sh->next, 0);
	pg_atomic_init_u32(&sh->failed, 0);
	sh->ndays = ndays;
	for (int i = 0; i < ndays; i++)
		sh->days[i].day = DatumGetDateADT(elems[i]);
	sh->guc_offset = size;
	SerializeGUCState(guc_size, (char *) sh + size);

	handles = palloc0(sizeof(BackgroundWorkerHandle *) * workers);
	started = palloc0(sizeof(int));
	PG_TRY();
	{
		for (int w = 0; w < Min(workers, ndays); w++)
		{
			BackgroundWorker worker;

			memset(&worker, 0, sizeof(worker));
			worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
			worker.bgw_start_time = BgWorkerStart_ConsistentState;
			worker.bgw_restart_time = BGW_NEVER_RESTART;
			snprintf(worker.bgw_library_name, BGW_MAXLEN, "lockstep");
			snprintf(worker.bgw_function_name, BGW_MAXLEN, "lockstep_day_worker_main");
			snprintf(worker.bgw_name, BGW_MAXLEN, "lockstep daily stage worker for PID %d", MyProcPid);
			snprintf(worker.bgw_type, BGW_MAXLEN, "lockstep daily stage");
			worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
			worker.bgw_notify_pid = MyProcPid;
			if (!RegisterDynamicBackgroundWorker(&worker, &handles[*started]))
				break;			/* no free slot: the refresh stores the rest */
			(*started)++;
		}
		if (*started < Min(workers, ndays))
			ereport(DEBUG1,
					(errmsg("lockstep: %d of %d background workers started; the refresh stores the days they leave",
							*started, Min(workers, ndays))));
		for (int w = 0; w < *started; w++)
		{
			WaitForBackgroundWorkerShutdown(handles[w]);
			handles[w] = NULL;
		}
	}
	PG_FINALLY();
	{
		terminate_all(handles, *started);
	}
	PG_END_TRY();

	pg_read_barrier();
	if (pg_atomic_read_u32(&sh->failed) != 0)
		ereport(ERROR,
				(errcode(sh->sqlerrcode),
				 errmsg("%s", sh->message),
				 sh->detail[0] ? errdetail("%s", sh->detail) : 0,
				 errcontext("storing day %s in a background worker of lockstep's daily stage",
							DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(sh->failed_day))))));

	for (int i = 0; i < ndays; i++)
	{
		Datum		values[3];
		bool		isnull[3] = {false, false, false};

		if (!sh->days[i].done)
			continue;
		values[0] = DateADTGetDatum(sh->days[i].day);
		values[1] = Int64GetDatum(sh->days[i].rows);
		values[2] = Int64GetDatum(sh->days[i].skipped);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
	}
	dsm_detach(seg);
	return (Datum) 0;
}
