#!/usr/bin/env bash
# Unlock overhead before and after a change, measured in one session and
# interleaved (before, after, before, after…) so that a machine shared with
# other work loads both alike: BenchmarkUnlock* (api/bench_unlock_test.go),
# embedded broker and a nodelay Mosquitto, on SQLite and on PostgreSQL.
#   bench/unlock-before-after.sh COMMIT [ROUNDS] [OUTDIR]
# COMMIT is the "before" (e.g. main); "after" is the working tree. Results go
# to OUTDIR (default a new temporary directory), one file per run.
# BENCH and BENCHTIME choose other api benchmarks the same way, e.g.
#   BENCH='^BenchmarkBooking$' BENCHTIME=3000x bench/unlock-before-after.sh main 2
set -euo pipefail
BEFORE="$1"; ROUNDS="${2:-3}"; OUT="${3:-$(mktemp -d)}"
BENCH="${BENCH:-Unlock}"; BENCHTIME="${BENCHTIME:-3000x}"
PG="${RELAIS_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OLD="$(mktemp -d)"
git -C "$ROOT" archive "$BEFORE" | tar -x -C "$OLD"
(cd "$OLD" && go test -c -o "$OUT/before.test" ./api)
(cd "$ROOT" && go test -c -o "$OUT/after.test" ./api)
for i in $(seq "$ROUNDS"); do
  for v in before after; do
    dir="$ROOT/api"; [ "$v" = before ] && dir="$OLD/api"
    for db in sqlite pg; do
      f="$OUT/bench-$v-$db-$i.txt"
      echo "== $v $db $i $(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >"$f"
      if [ "$db" = pg ]; then
        (cd "$dir" && RELAIS_TEST_DATABASE_URL="$PG" "$OUT/$v.test" -test.run '^$' -test.bench "$BENCH" -test.benchtime "$BENCHTIME" >>"$f" 2>&1)
      else
        (cd "$dir" && env -u RELAIS_TEST_DATABASE_URL "$OUT/$v.test" -test.run '^$' -test.bench "$BENCH" -test.benchtime "$BENCHTIME" >>"$f" 2>&1)
      fi
    done
  done
done
rm -rf "$OLD"
echo "results in $OUT"
