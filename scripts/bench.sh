#!/usr/bin/env bash
# The eligibility benchmark of docs/PERFORMANCE.md, from a fresh clone.
#
#   scripts/bench.sh sqlite 100000 [onshi bench card options…]
#   scripts/bench.sh postgres 10000000 --max --duration 30s
#
# Builds the release binary, seeds the database once (kept under target/bench/ or, for
# PostgreSQL, as database onshi_bench_<persons> on 127.0.0.1:5432, and reused by later
# runs), starts the center over mutual TLS, runs `onshi bench card` against it, and stops
# it. Without options the bench offers 1,000 checks/s for 60 s.
#
# Environment: ONSHI_BIN=PATH uses that binary instead of building; ONSHI_CENTERS=2 starts
# two centers behind `onshi balance` (PostgreSQL only: they share the database), or, with
# ONSHI_DIRECT=1, lets the terminals spread over them without a balancer; ONSHI_REPLICA_URL=postgres://…:5433/… serves the
# lookups from a streaming replica (scripts/pg-replica.sh); ONSHI_PG=postgres://… the
# server (default postgres://postgres@127.0.0.1:5432).
set -euo pipefail
cd "$(dirname "$0")/.."

backend="${1:?usage: $0 sqlite|postgres PERSONS [bench options…]}"
persons="${2:?usage: $0 sqlite|postgres PERSONS [bench options…]}"
shift 2
centers="${ONSHI_CENTERS:-1}"
pg="${ONSHI_PG:-postgres://postgres@127.0.0.1:5432}"
work="target/bench"
mkdir -p "$work"

if [ -n "${ONSHI_BIN:-}" ]; then
    onshi="$ONSHI_BIN"
else
    cargo build --release -q -p onshi
    onshi=target/release/onshi
fi

case "$backend" in
    sqlite)
        [ "$centers" = 1 ] || { echo "several centers need PostgreSQL" >&2; exit 2; }
        url="sqlite://$PWD/$work/sqlite-$persons.db"
        seeded() { [ -f "$work/sqlite-$persons.seeded" ]; }
        mark() { touch "$work/sqlite-$persons.seeded"; }
        ;;
    postgres)
        db="onshi_bench_$persons"
        url="$pg/$db"
        seeded() { [ "$(psql "$pg/postgres" -qAtc "SELECT 1 FROM pg_database WHERE datname = '$db'")" = 1 ] &&
            [ "$(psql "$url" -qAtc "SELECT count(*) FROM onshi_bench_seeded" 2>/dev/null || true)" = 1 ]; }
        mark() { psql "$url" -qc "CREATE TABLE onshi_bench_seeded (persons BIGINT); INSERT INTO onshi_bench_seeded VALUES ($persons)"; }
        ;;
    *) echo "backend: sqlite or postgres" >&2; exit 2 ;;
esac

if ! seeded; then
    echo "== seeding $persons persons into $url (once; later runs reuse it)"
    if [ "$backend" = postgres ]; then
        psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db" -qc "CREATE DATABASE $db"
    else
        rm -f "$work/sqlite-$persons.db"*
    fi
    "$onshi" seed --database-url "$url" --persons "$persons"
    mark
fi

data="$work/data-$backend-$persons"
mkdir -p "$data"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# Starts one center on $1 and waits for its ready line.
start_center() {
    local listen="$1" log="$work/center-$1.log"
    local replica=()
    [ -n "${ONSHI_REPLICA_URL:-}" ] && replica=(--replica-url "$ONSHI_REPLICA_URL")
    "$onshi" serve --tls --database-url "$url" --data-dir "$data" --listen "$listen" \
        "${replica[@]}" >"$log" 2>&1 &
    pids+=($!)
    center_pids+=($!)
    for _ in $(seq 1 100); do
        grep -q "listening on" "$log" && return 0
        kill -0 "$!" 2>/dev/null || { cat "$log" >&2; exit 1; }
        sleep 0.2
    done
    echo "the center on $listen did not start" >&2
    cat "$log" >&2
    exit 1
}

center_pids=()
targets=(--center https://127.0.0.1:8443)
if [ "$centers" = 1 ]; then
    start_center 127.0.0.1:8443
else
    backends=()
    for i in $(seq 1 "$centers"); do
        start_center "127.0.0.1:$((8443 + i))"
        backends+=(--backend "127.0.0.1:$((8443 + i))")
    done
    if [ -n "${ONSHI_DIRECT:-}" ]; then
        # The terminals spread over the centers themselves (no balancer in the path).
        targets=()
        for i in $(seq 1 "$centers"); do targets+=(--center "https://127.0.0.1:$((8443 + i))"); done
    else
        "$onshi" balance --listen 127.0.0.1:8443 "${backends[@]}" >"$work/balance.log" 2>&1 &
        pids+=($!)
        sleep 0.5
    fi
fi

server_pids=()
for p in "${center_pids[@]}"; do server_pids+=(--server-pid "$p"); done
[ $# -gt 0 ] || set -- --rate 1000 --duration 60s
# On PostgreSQL the database's own processes do part of each check: count them too.
counted=()
[ "$backend" = postgres ] && counted=(--count-processes postgres)
"$onshi" bench card "${targets[@]}" --data-dir "$data" \
    --database-url "$url" "${server_pids[@]}" "${counted[@]}" "$@"
