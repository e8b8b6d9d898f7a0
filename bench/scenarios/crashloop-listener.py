# SPDX-License-Identifier: MIT
# The crashloop scenario's event listener: speaks supervisor's event listener
# protocol (READY, a header line, a payload of len bytes, RESULT 2\nOK) and
# appends one line per event it receives to the file named by argv[1]:
#   <receipt time, epoch s> <poolserial> <serial> <eventname> <processname> <from_state>
# The file is line-buffered: a line is on disk (in the page cache) as soon as
# the event is acknowledged, so the bench can read it while we run.
# Run it with /usr/bin/python3 -u.
import sys
import time

out = open(sys.argv[1], 'a', buffering=1)
stdin = sys.stdin.buffer
stdout = sys.stdout


def fields(text):
    return dict(tok.split(':', 1) for tok in text.split() if ':' in tok)


while True:
    stdout.write('READY\n')
    stdout.flush()
    line = stdin.readline()
    if not line:
        break
    head = fields(line.decode('utf-8', 'replace'))
    n = int(head.get('len', '0'))
    payload = stdin.read(n) if n else b''
    body = fields(payload.decode('utf-8', 'replace').split('\n', 1)[0])
    out.write('%.6f %s %s %s %s %s\n' % (
        time.time(), head.get('poolserial', '-'), head.get('serial', '-'), head.get('eventname', '-'),
        body.get('processname', '-'), body.get('from_state', '-')))
    stdout.write('RESULT 2\nOK')
    stdout.flush()
