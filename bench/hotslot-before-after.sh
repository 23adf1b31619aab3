#!/usr/bin/env bash
# A hot slot (issue 12) before and after a change, on PostgreSQL, measured in
# one session and interleaved (before, after, before, after…) so that a
# machine shared with other work loads both alike:
#   - BenchmarkHotSlot (api/hotslot_test.go): RACES races of 30 members for
#     one slot of a desk, a 10-seat zone and a series; longest and median
#     answer, winners per race, PostgreSQL's deadlocks over the run;
#   - BenchmarkBooking at M=500 N=16 and M=1 N=16 (distinct resources, and
#     one resource), BOOKINGS bookings each.
#   bench/hotslot-before-after.sh COMMIT [ROUNDS] [OUTDIR]
# RACES (10) and BOOKINGS (6000) set the runs' lengths; HOTSLOT (HotSlot)
# narrows the races (e.g. HotSlot/desk-cold); BOOKINGS=0 skips BenchmarkBooking.
# COMMIT is the "before" (e.g. main); "after" is the working tree. The
# benchmark's file is copied into the "before" tree when it lacks it.
# Results go to OUTDIR (default a new temporary directory), one file per run.
set -euo pipefail
BEFORE="$1"; ROUNDS="${2:-3}"; OUT="${3:-$(mktemp -d)}"
RACES="${RACES:-10}"; BOOKINGS="${BOOKINGS:-6000}"; HOTSLOT="${HOTSLOT:-HotSlot}"
PG="${RELAIS_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OLD="$(mktemp -d)"
mkdir -p "$OUT"
git -C "$ROOT" archive "$BEFORE" | tar -x -C "$OLD"
[ -f "$OLD/api/hotslot_test.go" ] || cp "$ROOT/api/hotslot_test.go" "$OLD/api/"
(cd "$OLD" && go test -c -o "$OUT/before.test" ./api)
(cd "$ROOT" && go test -c -o "$OUT/after.test" ./api)
for i in $(seq "$ROUNDS"); do
  for v in before after; do
    dir="$ROOT/api"; [ "$v" = before ] && dir="$OLD/api"
    f="$OUT/hotslot-$v-$i.txt"
    echo "== $v $i $(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >"$f"
    (cd "$dir" && RELAIS_TEST_DATABASE_URL="$PG" "$OUT/$v.test" -test.run '^$' -test.bench "$HOTSLOT" -test.benchtime "${RACES}x" >>"$f" 2>&1)
    [ "$BOOKINGS" = 0 ] && continue
    f="$OUT/booking-$v-$i.txt"
    echo "== $v $i $(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >"$f"
    (cd "$dir" && RELAIS_TEST_DATABASE_URL="$PG" "$OUT/$v.test" -test.run '^$' -test.bench 'Booking$/resources=(500|1)/clients=16$' -test.benchtime "${BOOKINGS}x" >>"$f" 2>&1)
  done
done
rm -rf "$OLD"
echo "results in $OUT"
