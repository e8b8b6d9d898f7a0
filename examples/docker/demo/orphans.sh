#!/bin/sh
# Demo program: every 3 s a subshell starts `sleep 1` in the background and
# exits at once, so the sleep is orphaned and reparented to PID 1 (fastvisor),
# which reaps it a second later ("reaped unknown pid N" in the log). Without a
# reaping PID 1 each of them would stay a zombie. On SIGTERM it records it in
# $DEMO_STATE/orphans.term and exits 0.
term() {
  echo "orphans: got SIGTERM, exiting"
  [ -n "$DEMO_STATE" ] && echo "SIGTERM $$" > "$DEMO_STATE/orphans.term"
  exit 0
}
trap term TERM
echo "orphans: started as pid $$"
while :; do
  (sleep 1 & echo "orphans: left pid $! behind")
  sleep 3 &
  wait $!
done
