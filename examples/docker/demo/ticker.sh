#!/bin/sh
# Demo program: a heartbeat line every 5 s; on SIGTERM it says so (stdout and
# $DEMO_STATE/ticker.term) and exits 0.
term() {
  echo "ticker: got SIGTERM, exiting"
  [ -n "$DEMO_STATE" ] && echo "SIGTERM $$" > "$DEMO_STATE/ticker.term"
  exit 0
}
trap term TERM
echo "ticker: started as pid $$"
while :; do
  echo "ticker: $(date '+%T') alive"
  # sleep in the background and wait: a trap runs as soon as the signal comes
  sleep 5 &
  wait $!
done
