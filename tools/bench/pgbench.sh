#!/usr/bin/env bash
# pgbench against zqlite and a throwaway PostgreSQL on the same machine, in one run.
#
#   tools/bench/pgbench.sh [seconds per run (10)] [scale (10)]
#
# Starts PostgreSQL from Debian's packages (fsync on, default settings except
# max_connections=200 so that 100 clients fit) and `zqlite serve` (release build), initialises
# both with `pgbench -i`, then runs select-only with the prepared and simple protocols and the
# default TPC-B-like script at 1, 16 and 100 clients, printing both TPS figures, the ratio and
# failed transactions. Each TPC-B run starts from a fresh `pgbench -i`.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:-10}
scale=${2:-10}
work=$(mktemp -d)
chmod 755 "$work"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
pg_port=54330
zq_port=54331

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
  [ -n "${zq_pid:-}" ] && kill "$zq_pid" 2>/dev/null || true
  as_postgres "$pg_bin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "building zqlite (release)" >&2
cargo build --release -q -p zqlite

mkdir -p "$work/pg" "$work/sock"
[ "$(id -u)" = 0 ] && chown postgres "$work/pg" "$work/sock"
as_postgres "$pg_bin/initdb" -D "$work/pg" -A trust -U postgres >/dev/null
as_postgres "$pg_bin/pg_ctl" -D "$work/pg" -l "$work/pg/log" -w \
  -o "-p $pg_port -k $work/sock -c max_connections=200" start >/dev/null

./target/release/zqlite serve --data "$work/zq" --pg-listen "127.0.0.1:$zq_port" \
  >"$work/zqlite.log" 2>&1 &
zq_pid=$!
for _ in $(seq 100); do
  pg_isready -q -h 127.0.0.1 -p "$zq_port" && break
  sleep 0.1
done

pg=(-h 127.0.0.1 -p "$pg_port" -U postgres postgres)
zq=(-h 127.0.0.1 -p "$zq_port" -U zqlite zqlite)

init() { pgbench -q -i -s "$scale" "$@" >/dev/null 2>&1; }

# run ARGS... -- CONNECTION...: prints "tps failed"
run() {
  local args=() out
  while [ "$1" != "--" ]; do args+=("$1"); shift; done
  shift
  out=$(pgbench "${args[@]}" -T "$seconds" "$@" 2>&1) || true
  printf '%s %s\n' \
    "$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -1)" \
    "$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out" | head -1)"
}

printf '%-28s %12s %12s %7s %s\n' "workload" "zqlite tps" "postgres tps" "ratio" "failed (zqlite/postgres)"
init "${pg[@]}"
init "${zq[@]}"
for workload in "-S -M prepared" "-S -M simple" "TPC-B"; do
  for clients in 1 16 100; do
    if [ "$workload" = "TPC-B" ]; then
      init "${pg[@]}"
      init "${zq[@]}"
      flags=()
    else
      read -r -a flags <<<"$workload"
    fi
    threads=$((clients < 2 ? 1 : 2))
    read -r zq_tps zq_failed < <(run "${flags[@]}" -c "$clients" -j "$threads" -- "${zq[@]}")
    read -r pg_tps pg_failed < <(run "${flags[@]}" -c "$clients" -j "$threads" -- "${pg[@]}")
    ratio=$(awk -v a="${zq_tps:-0}" -v b="${pg_tps:-0}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')
    printf '%-28s %12s %12s %7s %s/%s\n' "$workload -c $clients" "${zq_tps:-error}" \
      "${pg_tps:-error}" "$ratio" "${zq_failed:-?}" "${pg_failed:-?}"
  done
done
