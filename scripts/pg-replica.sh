#!/usr/bin/env bash
# A PostgreSQL streaming replica of the local server, for `onshi serve --replica-url`.
#
#   scripts/pg-replica.sh start   # base backup of 127.0.0.1:5432, standby on 127.0.0.1:5433
#   scripts/pg-replica.sh lag [SECONDS]   # sample the replica's lag once a second
#   scripts/pg-replica.sh stop    # stop the standby and delete its files
#
# Needs root (it allows replication connections from 127.0.0.1 in the primary's
# pg_hba.conf and runs the standby as the postgres user). Settings by environment:
# ONSHI_PRIMARY_PORT (5432), ONSHI_REPLICA_PORT (5433), ONSHI_REPLICA_DIR
# (/var/tmp/onshi-replica). See docs/postgres.md.
set -euo pipefail

primary_port="${ONSHI_PRIMARY_PORT:-5432}"
port="${ONSHI_REPLICA_PORT:-5433}"
dir="${ONSHI_REPLICA_DIR:-/var/tmp/onshi-replica}"
version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
bin="/usr/lib/postgresql/${version}/bin"
as_pg() { su postgres -s /bin/bash -c "$*"; }
primary() { psql -h 127.0.0.1 -p "$primary_port" -U postgres -d postgres -qAtc "$1"; }

need_root() {
    [ "$(id -u)" = 0 ] || { echo "run as root: the standby runs as the postgres user" >&2; exit 1; }
    [ -x "$bin/pg_ctl" ] || { echo "no PostgreSQL server found under /usr/lib/postgresql" >&2; exit 1; }
}

start() {
    need_root
    if pg_isready -q -h 127.0.0.1 -p "$port"; then
        echo "something already answers on 127.0.0.1:$port" >&2
        exit 1
    fi
    # Replication connections from loopback, as the primary already trusts loopback.
    hba=$(primary "SHOW hba_file")
    if ! grep -Eq '^host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32' "$hba"; then
        echo "host replication all 127.0.0.1/32 trust" >>"$hba"
        primary "SELECT pg_reload_conf()" >/dev/null
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    chown postgres:postgres "$dir"
    chmod 700 "$dir"
    echo "== base backup of 127.0.0.1:$primary_port into $dir"
    as_pg "$bin/pg_basebackup -h 127.0.0.1 -p $primary_port -U postgres -D $dir -R -X stream -c fast"
    # Debian keeps the configuration outside the data directory: give the standby its own.
    as_pg "cat > $dir/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
hot_standby = on
hot_standby_feedback = on
max_connections = 100
shared_buffers = 256MB
EOF
    as_pg "cat > $dir/pg_hba.conf" <<EOF
local all all trust
host all all 127.0.0.1/32 trust
EOF
    as_pg "$bin/pg_ctl -D $dir -l $dir/server.log -w start" >/dev/null
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p "$port" && break; sleep 1; done
    pg_isready -q -h 127.0.0.1 -p "$port" || { cat "$dir/server.log" >&2; exit 1; }
    in_recovery=$(psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAtc "SELECT pg_is_in_recovery()")
    [ "$in_recovery" = t ] || { echo "the copy on $port is not a standby" >&2; exit 1; }
    echo "replica streaming on 127.0.0.1:$port (same databases as the primary)"
}

lag() {
    local seconds="${1:-60}" max_bytes=0 max_ms=0
    echo "time,replay_lag_bytes,replay_lag_ms"
    for _ in $(seq 1 "$seconds"); do
        row=$(primary "SELECT coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)::bigint,
                              coalesce(extract(epoch FROM replay_lag) * 1000, 0)::numeric(12,1)
                       FROM pg_stat_replication WHERE application_name = 'walreceiver' LIMIT 1")
        [ -n "$row" ] || { echo "no standby is streaming from 127.0.0.1:$primary_port" >&2; exit 1; }
        bytes=${row%%|*}
        ms=${row##*|}
        echo "$(date +%T),$bytes,$ms"
        ((bytes > max_bytes)) && max_bytes=$bytes
        awk -v a="$ms" -v b="$max_ms" 'BEGIN { exit !(a > b) }' && max_ms=$ms
        sleep 1
    done
    echo "max replay lag: ${max_bytes} bytes, ${max_ms} ms"
}

stop() {
    need_root
    if [ -f "$dir/postmaster.pid" ]; then
        as_pg "$bin/pg_ctl -D $dir -m fast -w stop" >/dev/null || true
    fi
    rm -rf "$dir"
    echo "replica stopped"
}

case "${1:-}" in
    start) start ;;
    lag) lag "${2:-60}" ;;
    stop) stop ;;
    *) echo "usage: $0 start | lag [SECONDS] | stop" >&2; exit 2 ;;
esac
