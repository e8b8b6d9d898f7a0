# SPDX-License-Identifier: MIT
# An sd_notify client for the readiness e2e tests. It speaks the protocol as
# systemd's sd_notify(3) does: one datagram per message to $NOTIFY_SOCKET.
# What it sees and does goes to DIR/NAME.rec, one line each; the test steers
# it by creating files in DIR.
#
#   notify_client.py DIR NAME MODE
#
# Modes:
#   ready     STATUS=warming up; once DIR/step2 exists STATUS=second; once
#             DIR/go exists READY=1 + STATUS=serving; then runs
#   never     STATUS=never ready, then runs without ever sending READY=1
#   watchdog  READY=1, then WATCHDOG=1 every 0.2 s (a `pet` line each) until
#             DIR/NAME.stop-pet exists; then runs without them
#   exit      exits 0 after 0.2 s without sending anything
#
# SIGTERM and SIGINT are recorded (`signal SIGTERM`) and end it with status 0.
import os
import signal
import socket
import sys
import time

DIR, NAME, MODE = sys.argv[1:4]


def rec(line):
    with open(os.path.join(DIR, NAME + '.rec'), 'a') as f:
        f.write(line + '\n')


def notify(msg):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.sendto(msg.encode(), os.environ['NOTIFY_SOCKET'])
    finally:
        s.close()


def wait_file(name):
    path = os.path.join(DIR, name)
    while not os.path.exists(path):
        time.sleep(0.02)


def on_signal(signum, frame):
    rec('signal %s' % signal.Signals(signum).name)
    sys.exit(0)


def run():
    while True:
        time.sleep(60)


def main():
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, on_signal)
    rec('start pid=%d pgid=%d NOTIFY_SOCKET=%s WATCHDOG_USEC=%s' % (
        os.getpid(), os.getpgrp(), os.environ.get('NOTIFY_SOCKET', '-'), os.environ.get('WATCHDOG_USEC', '-')))
    if MODE == 'ready':
        notify('STATUS=warming up')
        wait_file('step2')
        notify('STATUS=second')
        wait_file('go')
        notify('READY=1\nSTATUS=serving')
        rec('sent READY=1')
        run()
    elif MODE == 'never':
        notify('STATUS=never ready')
        run()
    elif MODE == 'watchdog':
        notify('READY=1')
        stop = os.path.join(DIR, NAME + '.stop-pet')
        while not os.path.exists(stop):
            notify('WATCHDOG=1')
            rec('pet')
            time.sleep(0.2)
        rec('stopped petting')
        run()
    elif MODE == 'exit':
        time.sleep(0.2)
        rec('exit')
        sys.exit(0)
    else:
        raise SystemExit('unknown mode %r' % MODE)


main()
