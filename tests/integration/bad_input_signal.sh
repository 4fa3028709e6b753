#!/bin/sh
# The bad-input catalogue's signal cases (bad_inputs.cmake):
#   bad_input_signal.sh INT  WAIT_FILE COMMAND...  SIGINT once WAIT_FILE exists; exits with the
#                                                  command's code (130 after a clean save)
#   bad_input_signal.sh KILL WAIT_FILE COMMAND...  SIGKILL once WAIT_FILE exists, then runs the
#                                                  same command again; exits with the rerun's code
# WAIT_FILE is the run's first checkpoint: the signal lands between checkpoints, inside training.
set -u
signal=$1 wait_file=$2
shift 2
fail() { echo "bad_input_signal: $*" >&2; exit 99; }

"$@" &
pid=$!
waited=0
until [ -e "$wait_file" ]; do
  if ! kill -0 $pid 2> /dev/null; then
    wait $pid
    fail "the command ended (exit $?) before $wait_file appeared"
  fi
  sleep 0.1
  waited=$((waited + 1))
  if [ $waited -ge 600 ]; then
    kill -KILL $pid
    fail "$wait_file did not appear within 60 s"
  fi
done
kill -s "$signal" $pid
wait $pid
code=$?
case $signal in
INT)
  exit $code
  ;;
KILL)
  [ $code -eq 137 ] || fail "the killed run exited $code, not 137 (it ended before the kill?)"
  "$@"
  exit $?
  ;;
*)
  fail "unknown signal $signal"
  ;;
esac
