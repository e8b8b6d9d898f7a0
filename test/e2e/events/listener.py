# SPDX-License-Identifier: MIT
# One event listener, several behaviours (argv[2]), for the event e2e tests.
# Runs under Debian's /usr/bin/python3 with supervisor.childutils, as real
# listeners (superlance) do, except mode 'raw', which speaks the protocol by
# hand. Every event it receives is appended to argv[1] as one JSON line:
#   {"who": <process name>, "h": {headers}, "p": <payload>, ...}
# plus {"who": ..., "start": true} when it starts, so a respawn shows.
#
# Modes:
#   record   answer OK to everything
#   raw      no childutils: READY\n, header line, len bytes, RESULT 2\nOK
#   crash    superlance crashmail: an alert for PROCESS_STATE_EXITED expected:0
#   fail     answer FAIL the first time an event (serial) comes, OK the second
#   killme   REMOTE_COMMUNICATION type:block -> hang (the test SIGKILLs it);
#            once respawned, the same event is answered OK
#   hold     REMOTE_COMMUNICATION type:hold -> wait for <dir>/go-hold, then OK
#   slow     REMOTE_COMMUNICATION type:slow -> wait for <dir>/go-slow, then OK
#   memmon   superlance memmon: on the first TICK_5, read getAllProcessInfo over
#            XML-RPC and restart hog (stop, then start) while BUSY
#   stopping record, and on SIGTERM exit only once SUPERVISOR_STATE_CHANGE_STOPPING
#            has been recorded (so a shutdown cannot kill it before it records)
import json
import os
import signal
import sys
import time

from supervisor import childutils

OUT = sys.argv[1]
MODE = sys.argv[2]
DIR = os.path.dirname(os.path.abspath(OUT))
WHO = os.environ.get('SUPERVISOR_PROCESS_NAME', '?')


def record(**kw):
    kw = dict({'who': WHO}, **kw)
    with open(OUT, 'a') as f:
        f.write(json.dumps(kw, sort_keys=True) + '\n')
        f.flush()


def wait_for(path):
    while not os.path.exists(path):
        time.sleep(0.01)


def remote_type(headers, payload):
    if headers.get('eventname') != 'REMOTE_COMMUNICATION':
        return None
    first = payload.split('\n', 1)[0]
    return first[len('type:'):]


def raw_loop():
    stdin = sys.stdin.buffer
    stdout = sys.stdout.buffer
    while True:
        stdout.write(b'READY\n')
        stdout.flush()
        line = stdin.readline()
        if not line:
            return
        headers = dict(tok.split(':', 1) for tok in line.decode().split())
        payload = stdin.read(int(headers['len']))
        record(h=headers, p=payload.decode())
        stdout.write(b'RESULT 2\nOK')
        stdout.flush()


def main():
    record(start=True)
    if MODE == 'raw':
        return raw_loop()

    state = {'stopping_seen': False, 'term': False}
    if MODE == 'stopping':
        def on_term(signum, frame):
            if state['stopping_seen']:
                sys.exit(0)
            state['term'] = True
        signal.signal(signal.SIGTERM, on_term)

    failed = set()
    memmon_done = False
    while True:
        headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
        name = headers['eventname']
        rtype = remote_type(headers, payload)
        answer = 'OK'
        extra = {}
        if MODE == 'crash':
            if name == 'PROCESS_STATE_EXITED':
                ph, _ = childutils.eventdata(payload + '\n')
                if ph['expected'] == '0':
                    record(alert='Process %s in group %s exited unexpectedly (pid %s) from state %s'
                           % (ph['processname'], ph['groupname'], ph['pid'], ph['from_state']))
            childutils.listener.ok(sys.stdout)
            continue
        if MODE == 'fail':
            if headers['serial'] not in failed:
                failed.add(headers['serial'])
                answer = 'FAIL'
        elif MODE == 'killme' and rtype == 'block':
            flag = os.path.join(DIR, 'killme.blocked')
            if not os.path.exists(flag):
                open(flag, 'w').close()
                record(h=headers, p=payload, answer='(hang)')
                while True:
                    time.sleep(60)
        elif MODE == 'hold' and rtype == 'hold':
            record(h=headers, p=payload, answer='(holding)')
            wait_for(os.path.join(DIR, 'go-hold'))
        elif MODE == 'slow' and rtype == 'slow':
            record(h=headers, p=payload, answer='(holding)')
            wait_for(os.path.join(DIR, 'go-slow'))
        elif MODE == 'memmon' and name == 'TICK_5':
            if memmon_done:
                childutils.listener.ok(sys.stdout)
                continue
            memmon_done = True
            rpc = childutils.getRPCInterface(os.environ)
            infos = rpc.supervisor.getAllProcessInfo()
            hog = [i for i in infos if i['group'] == 'hog']
            extra['seen'] = [[i['name'], i['group'], i['statename']] for i in hog]
            before = hog[0]['pid'] if hog else 0
            extra['stop'] = rpc.supervisor.stopProcess('hog:hog')
            extra['start'] = rpc.supervisor.startProcess('hog:hog')
            after = rpc.supervisor.getProcessInfo('hog:hog')
            extra['after'] = after['statename']
            extra['new_pid'] = after['pid'] != before and after['pid'] > 0
        record(h=headers, p=payload, answer=answer, **extra)
        if name == 'SUPERVISOR_STATE_CHANGE_STOPPING':
            state['stopping_seen'] = True
        childutils.listener.send(answer, sys.stdout)
        if state['term'] and state['stopping_seen']:
            sys.exit(0)


main()
