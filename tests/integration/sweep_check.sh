#!/bin/sh
# Command-line checks of `sweep run` that need more than one process:
#   sweep_check.sh concurrent  SWEEP_EXE SWEEP_FILE OUT   two runners at once: each job runs once
#   sweep_check.sh kill-resume SWEEP_EXE SWEEP_FILE OUT   SIGKILL a runner mid-job, rerun: all done
set -u
mode=$1 exe=$2 file=$3 out=$4
journal=$out/.sweep/journal.log
fail() { echo "FAIL: $*"; for f in "$out".*.log; do echo "--- $f"; tail -n 20 "$f"; done; exit 1; }
jobs=$("$exe" plan "$file" --output "$out" | sed -n 's/^sweep [^:]*: \([0-9]*\) jobs.*/\1/p')
[ -n "$jobs" ] || fail "sweep plan did not print the job count"

# Every job finished exactly once; a job that ran twice would show two "done" lines (and, run
# twice at the same time, two "start" lines without an "interrupted" or a kill between them).
check_done_once() {
  done_lines=$(grep -c ' done ' "$journal")
  done_jobs=$(grep ' done ' "$journal" | awk '{print $5}' | sort -u | wc -l)
  [ "$done_lines" -eq "$jobs" ] || fail "$done_lines done lines for $jobs jobs"
  [ "$done_jobs" -eq "$jobs" ] || fail "$done_jobs distinct jobs done of $jobs"
  for log in "$out"/*/run.log; do
    fresh=$(grep -c '(fresh)' "$log")
    [ "$fresh" -eq 1 ] || fail "$log: the run was started $fresh times"
  done
}

rm -rf "$out" "$out".*.log
case $mode in
concurrent)
  "$exe" run "$file" --output "$out" --threads 1 > "$out.a.log" 2>&1 &
  a=$!
  "$exe" run "$file" --output "$out" --threads 1 > "$out.b.log" 2>&1 &
  b=$!
  wait $a; ra=$?
  wait $b; rb=$?
  [ $ra -eq 0 ] && [ $rb -eq 0 ] || fail "exit codes $ra and $rb"
  starts=$(grep -c ' start ' "$journal")
  [ "$starts" -eq "$jobs" ] || fail "$starts job starts for $jobs jobs"
  check_done_once
  echo "runners: $(grep ' start ' "$journal" | awk '{print $3}' | sort | uniq -c | tr '\n' ' ')"
  ;;
kill-resume)
  "$exe" run "$file" --output "$out" > "$out.a.log" 2>&1 &
  a=$!
  # Kill it while a fine-tuning runs: after its start line, before its done line.
  waited=0
  until grep -q ' start finetune/' "$journal" 2>/dev/null; do
    sleep 0.2
    waited=$((waited + 1))
    [ $waited -lt 600 ] || fail "no fine-tuning started within 120 s"
  done
  sleep 1
  kill -KILL $a
  wait $a
  [ "$(grep -c ' done ' "$journal")" -lt "$jobs" ] || fail "the runner finished before the kill"
  ls "$out"/.sweep/*.lock > /dev/null 2>&1 || fail "the killed runner left no lock"
  "$exe" run "$file" --output "$out" > "$out.b.log" 2>&1 || fail "the rerun exited $?"
  grep -q 'reclaimed the stale lock' "$out.b.log" || fail "the rerun did not reclaim the lock"
  check_done_once
  ;;
*)
  fail "unknown mode $mode"
  ;;
esac
echo "ok: $mode, $jobs jobs"
