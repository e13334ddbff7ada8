# Shared set-up for test/run, bin/lockstep-demo and bench/: install what is
# missing, build and install the extension, run a throwaway cluster.
# Sourced, not run.  Needs: LS_ROOT (the source tree).

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
export PG_CONFIG=${PG_CONFIG:-$PG_BIN/pg_config}
PATH=$PG_BIN:$PATH

log() { printf '%s\n' "$*" >&2; }

# Install the Debian packages that are missing (root only).
ls_install_deps() {
	local pkgs="postgresql-15 postgresql-server-dev-15 libxxhash-dev libipc-run-perl make gcc $*"
	local missing=""
	for p in $pkgs; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		log "missing packages:$missing (run as root, or install them)"
		return 1
	fi
	log "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null && apt-get install -y -qq $missing >/dev/null
}

# Build with warnings as errors and install into the server's directories.
ls_build_install() {
	make -C "$LS_ROOT" -s WERROR=1 >/dev/null && make -C "$LS_ROOT" -s install >/dev/null
}

# Start a throwaway cluster as an unprivileged user on a private socket.
# Sets PGHOST, PGPORT, PGUSER, PGDATABASE, LS_PGDATA.
ls_start_cluster() {
	local owner
	LS_TMP=$(mktemp -d /tmp/lockstep.XXXXXX)
	chmod 755 "$LS_TMP"
	LS_PGDATA=$LS_TMP/data
	if [ "$(id -u)" = 0 ]; then
		owner=postgres
		id postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent postgres
		chown postgres "$LS_TMP"
		LS_AS="runuser -u postgres --"
	else
		owner=$(id -un)
		LS_AS=""
	fi
	$LS_AS initdb -D "$LS_PGDATA" -U postgres --auth=trust -E UTF8 --locale=C >"$LS_TMP/initdb.log" 2>&1 ||
		{ cat "$LS_TMP/initdb.log" >&2; return 1; }
	cat >>"$LS_PGDATA/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$LS_TMP'
port = ${LS_PORT:-54329}
max_worker_processes = 8
max_parallel_workers_per_gather = 2
shared_buffers = '512MB'
work_mem = '64MB'
maintenance_work_mem = '512MB'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_preload_libraries = '${LS_PRELOAD:-}'
CONF
	# pg_cron, when preloaded, runs its jobs in background workers: no TCP here
	case ${LS_PRELOAD:-} in *pg_cron*)
		printf "cron.database_name = 'postgres'\ncron.use_background_workers = on\nmax_worker_processes = 16\n" \
			>>"$LS_PGDATA/postgresql.conf" ;;
	esac
	$LS_AS pg_ctl -D "$LS_PGDATA" -l "$LS_TMP/server.log" -w start >/dev/null ||
		{ cat "$LS_TMP/server.log" >&2; return 1; }
	export PGHOST=$LS_TMP PGPORT=${LS_PORT:-54329} PGUSER=postgres PGDATABASE=postgres
	log "cluster running as $owner in $LS_PGDATA"
}

# Stop the cluster and remove it.
ls_stop_cluster() {
	[ -n "${LS_PGDATA:-}" ] || return 0
	$LS_AS pg_ctl -D "$LS_PGDATA" -m fast -w stop >/dev/null 2>&1
	rm -rf "$LS_TMP"
	LS_PGDATA=
}

# What every script does before its first query: install the packages it
# names (beyond the base ones), build, start a throwaway cluster that is
# removed on exit.  LS_PRELOAD, if set, is passed on to the cluster.
ls_setup() {
	ls_install_deps "$@" || exit 1
	ls_build_install || { log "build failed"; exit 1; }
	ls_start_cluster || exit 1
	trap ls_stop_cluster EXIT
	trap "exit 130" INT TERM
}

# One query, its answer unaligned and without headers.
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
