# SPDX-License-Identifier: MIT
# One script of XML-RPC calls, run by Python's xmlrpc.client through
# supervisor.xmlrpc.SupervisorTransport (what supervisorctl uses) against one
# daemon: the real supervisord 4.2.5 or fastvisor, started on the same config
# by rpc-differential.test.ts. Every answer is recorded as
#   [label, {"ok": value}]  or  [label, {"fault": code, "text": faultString}]
# after masking what legitimately differs between two daemons (pids, times,
# the temp dir, the random part of AUTO log names). The test compares the two
# lists. Waits poll with deadlines and are not recorded.
#
#   /usr/bin/python3 rpc_script.py SOCKET DIR DAEMON_PID
#
# Prints one JSON document on stdout. Run it with Debian's /usr/bin/python3.
import http.client
import json
import os
import re
import sys
import threading
import time
import xmlrpc.client
from xmlrpc.client import Fault, ServerProxy

from supervisor.xmlrpc import SupervisorTransport, gettags

SOCKET, DIR, DAEMON_PID = sys.argv[1], sys.argv[2], int(sys.argv[3])
CONF = os.path.join(DIR, 'supervisord.conf')
MAINLOG = os.path.join(DIR, 'supervisord.log')


def proxy():
    return ServerProxy('http://127.0.0.1', transport=SupervisorTransport(None, None, 'unix://' + SOCKET))


p = proxy()
out = []
T0 = time.monotonic()
# seconds since the start at each call, for finding what is slow (not compared)
times = []

# ---- masking -------------------------------------------------------------

AUTO_RE = re.compile(r'(-(?:stdout|stderr)---[^/]*?-)[a-z0-9_]{8}(\.log)')
UPTIME_RE = re.compile(r'pid \d+, uptime \d+ days?, \d+:\d\d:\d\d|pid \d+, uptime \d+:\d\d:\d\d')
STOPTIME_RE = re.compile(r'^[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M$')
TIMES = ('start', 'stop', 'now')


def mask_str(s):
    s = s.replace(DIR, '<DIR>')
    s = AUTO_RE.sub(r'\1<RANDOM>\2', s)
    s = UPTIME_RE.sub('pid <PID>, uptime <UPTIME>', s)
    if STOPTIME_RE.match(s):
        s = '<STOPTIME>'
    return s


def mask(v, key=None):
    if isinstance(v, dict):
        return {k: mask(x, k) for k, x in v.items()}
    if isinstance(v, list):
        return [mask(x) for x in v]
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        if key == 'pid' and v:
            return '<PID>'
        if key in TIMES and v:
            return '<TIME>'
        return v
    if isinstance(v, str):
        return mask_str(v)
    return v


def by_name(results):
    """Deferred results arrive as each process settles: their order is timing, not semantics."""
    return sorted(results, key=lambda r: (r.get('group', ''), r.get('name', ''))) if isinstance(results, list) else results


def call(label, fn, *args, post=None):
    times.append([label, round(time.monotonic() - T0, 2)])
    try:
        v = fn(*args)
        if post:
            v = post(v)
        out.append([label, {'ok': mask(v)}])
        return v
    except Fault as f:
        out.append([label, {'fault': f.faultCode, 'text': mask_str(f.faultString)}])
        return f
    except xmlrpc.client.ProtocolError as e:
        out.append([label, {'protocol': e.errcode}])
        return e
    except Exception as e:  # e.g. ExpatError: a reply that is not well-formed XML
        out.append([label, {'error': type(e).__name__}])
        return e


def note(label, value):
    out.append([label, {'ok': mask(value)}])


# ---- waiting (not recorded) ----------------------------------------------

def until(what, probe, timeout=15.0, interval=0.02):
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = probe()
            if last:
                return last
        # a daemon restarting may refuse, reset or cut a reply short
        except (Fault, OSError, xmlrpc.client.ProtocolError, http.client.HTTPException) as e:
            last = e
        if time.monotonic() > deadline:
            raise SystemExit('timed out waiting for %s (last: %r)' % (what, last))
        time.sleep(interval)


def states():
    return {('%s:%s' % (i['group'], i['name'])): i['statename'] for i in p.supervisor.getAllProcessInfo()}


def wait_states(want, timeout=15.0):
    """want: {'group:name': statename or (statenames...)}"""
    def ok():
        s = states()
        return all(s.get(k) in ((v,) if isinstance(v, str) else v) for k, v in want.items())
    until('states %r' % want, ok, timeout)


DAEMON_EXE = os.readlink('/proc/%d/exe' % DAEMON_PID)


def wait_exec(*names):
    """Until each process has exec'd its program. supervisord's child runs
    Python between fork and exec with the daemon's signal handlers, so a
    SIGTERM that lands there is swallowed and the stop waits stopwaitsecs for
    its SIGKILL: stop only what already is its program."""
    def done():
        for n in names:
            pid = p.supervisor.getProcessInfo(n)['pid']
            try:
                if not pid or os.readlink('/proc/%d/exe' % pid) == DAEMON_EXE:
                    return False
            except OSError:
                return False
        return True
    until('exec of %r' % (names,), done)


def wait_log(name, text, channel='stdout'):
    read = p.supervisor.readProcessStdoutLog if channel == 'stdout' else p.supervisor.readProcessStderrLog
    until('%s in %s %s' % (text, name, channel), lambda: read(name, 0, 0) == text)


def write_conf(text):
    with open(CONF, 'w') as f:
        f.write(text)


def without(text, section):
    """The config text without one [section] (sections are separated by blank lines)."""
    return re.sub(r'^\[%s\]\n(?:.+\n)*' % re.escape(section), '', text, flags=re.M)


BASE_CONF = open(CONF).read()

# supervisord looks at a deferred answer (startProcess with wait, the *All
# calls, clearAllProcessLogs) once per pass of its select loop, which idles for
# up to a second: a call every 20 ms keeps it turning. Only the pace changes,
# not the answers. A new connection each time, closed after the call: none is
# left open across the restart.
def heartbeat():
    while True:
        q = proxy()
        try:
            q.supervisor.getAPIVersion()
        except Exception:
            pass
        finally:
            q('close')()
        time.sleep(0.02)


threading.Thread(target=heartbeat, daemon=True).start()

# ---- the script ----------------------------------------------------------

S = p.supervisor
Y = p.system

# autostarted programs are up (supervisord waits a second before its first spawns)
wait_states({'cat:cat': 'RUNNING', 'echo:echo': 'RUNNING', 'grp:g1': 'RUNNING', 'grp:g2': 'RUNNING', 'redir:redir': 'RUNNING', 'color:color': 'RUNNING'})
wait_log('echo', 'hello world\n')
wait_log('echo', 'oops\n', 'stderr')
wait_log('redir', 'out\nerr\n')

# system.*: fastvisor.* is fastvisor's own namespace, left out of the comparison
methods = Y.listMethods()
note('system.listMethods', [m for m in methods if not m.startswith('fastvisor.')])
for m in methods:
    if m.startswith('fastvisor.'):
        continue
    call('system.methodSignature ' + m, Y.methodSignature, m)
    # the prose is fastvisor's own words; the tags (type and parameter names) must match
    call('system.methodHelp tags ' + m, Y.methodHelp, m,
         post=lambda doc: [[t[1], t[2]] + ([t[3]] if t[1] == 'param' else []) for t in gettags(doc) if t[1]])
call('system.methodSignature nope', Y.methodSignature, 'supervisor.nope')
call('system.methodHelp nope', Y.methodHelp, 'supervisor.nope')
call('system.listMethods extra arg', Y.listMethods, 1)

# UNKNOWN_METHOD and INCORRECT_PARAMETERS
call('supervisor.nope', S.nope)
call('system.nope', Y.nope)
call('nope.getState', getattr(p, 'nope').getState)
call('getState (no namespace)', p.getState)
call('supervisor._update', getattr(S, '_update'), 'x')
call('supervisor.getState.x', getattr(S.getState, 'x'))
call('getState(1)', S.getState, 1)
call('startProcess()', S.startProcess)
call('startProcess(a, True, 3)', S.startProcess, 'cat', True, 3)
call('getProcessInfo()', S.getProcessInfo)

# identity
call('getAPIVersion', S.getAPIVersion)
call('getVersion', S.getVersion)
call('getSupervisorVersion', S.getSupervisorVersion)
call('getIdentification', S.getIdentification)
call('getState', S.getState)
call('getPID is the daemon', S.getPID, post=lambda pid: pid == DAEMON_PID)

# process info
call('getAllProcessInfo', S.getAllProcessInfo)
call('getProcessInfo cat', S.getProcessInfo, 'cat')
call('getProcessInfo cat:cat', S.getProcessInfo, 'cat:cat')
call('getProcessInfo grp:g1', S.getProcessInfo, 'grp:g1')
call('getProcessInfo grp:*', S.getProcessInfo, 'grp:*')
call('getProcessInfo grp:', S.getProcessInfo, 'grp:')
call('getProcessInfo grp', S.getProcessInfo, 'grp')
call('getProcessInfo grp:nope', S.getProcessInfo, 'grp:nope')
call('getProcessInfo nope', S.getProcessInfo, 'nope')
call('getProcessInfo multi:multi_01', S.getProcessInfo, 'multi:multi_01')
call('getAllConfigInfo', S.getAllConfigInfo)

# child logs: readFile offsets
for args in [(0, 0), (3, 4), (-5, 0), (100, 0), (12, 0), (11, 5), (0, -5), (-5, 5), (-100, 0), (0, 100)]:
    call('readProcessStdoutLog echo %r' % (args,), S.readProcessStdoutLog, 'echo', *args)
call('readProcessLog echo', S.readProcessLog, 'echo', 0, 0)
call('readProcessStderrLog echo', S.readProcessStderrLog, 'echo', 0, 0)
call('readProcessStderrLog echo -3', S.readProcessStderrLog, 'echo', -3, 0)
call('readProcessStdoutLog redir', S.readProcessStdoutLog, 'redir', 0, 0)
call('readProcessStderrLog redir', S.readProcessStderrLog, 'redir', 0, 0)
call('readProcessStderrLog cat (NONE)', S.readProcessStderrLog, 'cat', 0, 0)
call('readProcessStdoutLog slow (never started)', S.readProcessStdoutLog, 'slow', 0, 0)
call('readProcessStdoutLog grp:g1 (AUTO, empty)', S.readProcessStdoutLog, 'grp:g1', 0, 0)
call('readProcessStdoutLog nope', S.readProcessStdoutLog, 'nope', 0, 0)
call('readProcessStdoutLog grp:*', S.readProcessStdoutLog, 'grp:*', 0, 0)
call('readProcessStdoutLog string offsets', S.readProcessStdoutLog, 'echo', '3', '4')

# output that XML cannot carry as it is: an ANSI colour escape, a byte that is not UTF-8
# (waited for by file size: supervisord cannot even tail it)
color = S.getProcessInfo('color')
until('color output', lambda: os.path.getsize(color['stdout_logfile']) == 13 and os.path.getsize(color['stderr_logfile']) == 2)
call('readProcessStdoutLog color (ANSI escape)', S.readProcessStdoutLog, 'color', 0, 0)
call('readProcessStderrLog color (not UTF-8)', S.readProcessStderrLog, 'color', 0, 0)
call('tailProcessStdoutLog color (ANSI escape)', S.tailProcessStdoutLog, 'color', 0, 100)

# tailFile: offsets and overflow
for args in [(0, 5), (0, 100), (12, 100), (100, 10), (5, 3), (-5, 3), (11, 1), (12, 0), (0, 0)]:
    call('tailProcessStdoutLog echo %r' % (args,), S.tailProcessStdoutLog, 'echo', *args)
call('tailProcessLog echo', S.tailProcessLog, 'echo', 0, 100)
call('tailProcessStderrLog echo', S.tailProcessStderrLog, 'echo', 0, 3)
call('tailProcessStderrLog cat (NONE)', S.tailProcessStderrLog, 'cat', 0, 100)
call('tailProcessStdoutLog slow (no file)', S.tailProcessStdoutLog, 'slow', 0, 100)
call('tailProcessStdoutLog nope', S.tailProcessStdoutLog, 'nope', 0, 100)

# the main log: its lines differ between the daemons; the arithmetic does not
call('readLog first 10 bytes, digits masked', S.readLog, 0, 10, post=lambda s: re.sub(r'\d', '9', s))
call('readLog -1', S.readLog, -1, 0)
call('readMainLog -1', S.readMainLog, -1, 0)
call('readLog past the end', S.readLog, 10 ** 8, 0)
call('readLog (0, -1)', S.readLog, 0, -1)
call('readLog (-5, 5)', S.readLog, -5, 5)
call('readLog whole ends with a newline', S.readLog, 0, 0, post=lambda s: s.endswith('\n'))
call('clearLog', S.clearLog)
call('readLog after clearLog', S.readLog, 0, 0)

# clearing child logs
call('clearProcessLogs echo', S.clearProcessLogs, 'echo')
call('readProcessStdoutLog echo after clear', S.readProcessStdoutLog, 'echo', 0, 0)
call('readProcessStderrLog echo after clear', S.readProcessStderrLog, 'echo', 0, 0)
call('tailProcessStdoutLog echo after clear', S.tailProcessStdoutLog, 'echo', 0, 100)
call('clearProcessLog redir', S.clearProcessLog, 'redir')
call('clearProcessLogs nope', S.clearProcessLogs, 'nope')
call('clearProcessLogs grp:*', S.clearProcessLogs, 'grp:*')
call('clearAllProcessLogs', S.clearAllProcessLogs)

# stdin
call('sendProcessStdin cat', S.sendProcessStdin, 'cat', 'hi\n')
wait_log('cat', 'hi\n')
call('sendProcessStdin cat unicode', S.sendProcessStdin, 'cat', 'h\u00e9\n')
wait_log('cat', 'hi\nh\u00e9\n')
call('readProcessStdoutLog cat', S.readProcessStdoutLog, 'cat', 0, 0)
call('readProcessStdoutLog cat splits a character', S.readProcessStdoutLog, 'cat', 0, 5, post=lambda s: len(s) <= 5)
call('sendProcessStdin int', S.sendProcessStdin, 'cat', 5)
call('sendProcessStdin not running', S.sendProcessStdin, 'slow', 'x')
call('sendProcessStdin nope', S.sendProcessStdin, 'nope', 'x')
call('sendProcessStdin grp:*', S.sendProcessStdin, 'grp:*', 'x')
call('sendRemoteCommEvent', S.sendRemoteCommEvent, 'type', 'data')

# signals
call('signalProcess BAD_SIGNAL', S.signalProcess, 'cat', 'FOO')
call('signalProcess CONT', S.signalProcess, 'cat', 'CONT')
call('signalProcess SIGCONT', S.signalProcess, 'cat', 'SIGCONT')
call('signalProcess "18"', S.signalProcess, 'cat', '18')
call('signalProcess 18 (int)', S.signalProcess, 'cat', 18)
call('signalProcess not running', S.signalProcess, 'slow', 'CONT')
call('signalProcess not running, bad signal', S.signalProcess, 'slow', 'FOO')
call('signalProcess nope', S.signalProcess, 'nope', 'CONT')
call('signalProcess grp:*', S.signalProcess, 'grp:*', 'CONT')
call('signalProcessGroup grp', S.signalProcessGroup, 'grp', 'CONT')
call('signalProcessGroup grp FOO', S.signalProcessGroup, 'grp', 'FOO')
call('signalProcessGroup nope', S.signalProcessGroup, 'nope', 'CONT')
call('signalAllProcesses', S.signalAllProcesses, 'CONT')
call('signalAllProcesses FOO', S.signalAllProcesses, 'FOO')

# start faults
call('startProcess cat (running)', S.startProcess, 'cat')
call('startProcess nope', S.startProcess, 'nope')
call('startProcess nofile', S.startProcess, 'nofile')
call('startProcess notexec', S.startProcess, 'notexec')
call('startProcess isdir', S.startProcess, 'isdir')
call('startProcess fail (wait)', S.startProcess, 'fail')
wait_states({'fail:fail': 'FATAL'})
call('getProcessInfo fail', S.getProcessInfo, 'fail')
call('readProcessStdoutLog fail', S.readProcessStdoutLog, 'fail', 0, 0)
call('startProcess fail (no wait)', S.startProcess, 'fail', False)
wait_states({'fail:fail': 'FATAL'})
call('startProcess once (startsecs=0)', S.startProcess, 'once')
wait_states({'once:once': 'EXITED'})
call('getProcessInfo once', S.getProcessInfo, 'once')
call('stopProcess once (exited)', S.stopProcess, 'once')

# ABNORMAL_TERMINATION: stopped while a waiting startProcess watches it
abnormal = {}


def start_starting():
    try:
        abnormal['r'] = proxy().supervisor.startProcess('starting')
    except Fault as f:
        abnormal['r'] = f


t = threading.Thread(target=start_starting)
t.start()
wait_states({'starting:starting': 'STARTING'})
wait_exec('starting')
call('startProcess starting (already STARTING)', S.startProcess, 'starting')
call('stopProcess starting', S.stopProcess, 'starting')
t.join(15)
r = abnormal.get('r')
note('startProcess starting, stopped meanwhile', {'fault': r.faultCode, 'text': r.faultString} if isinstance(r, Fault) else r)
call('getProcessInfo starting', S.getProcessInfo, 'starting')

# start/stop: names, wait and no wait
call('startProcess slow (no wait)', S.startProcess, 'slow', False)
call('getProcessInfo slow (STARTING)', S.getProcessInfo, 'slow')
call('startProcess slow (STARTING)', S.startProcess, 'slow')
wait_states({'slow:slow': 'RUNNING'})
call('stopProcess slow (no wait)', S.stopProcess, 'slow', False)
wait_states({'slow:slow': 'STOPPED'})
call('stopProcess slow (stopped)', S.stopProcess, 'slow')
call('startProcess slow (wait)', S.startProcess, 'slow', True)
call('getProcessInfo slow (RUNNING)', S.getProcessInfo, 'slow')
call('stopProcess slow (wait)', S.stopProcess, 'slow')
call('getProcessInfo slow (STOPPED)', S.getProcessInfo, 'slow')
call('stopProcess nope', S.stopProcess, 'nope')

# groups: g:*, startProcessGroup, stopProcessGroup
call('startProcessGroup grp (all running)', S.startProcessGroup, 'grp')
call('stopProcessGroup grp (wait)', S.stopProcessGroup, 'grp', post=by_name)
call('stopProcessGroup grp (stopped)', S.stopProcessGroup, 'grp')
call('startProcessGroup grp (no wait)', S.startProcessGroup, 'grp', False)
wait_states({'grp:g1': 'RUNNING', 'grp:g2': 'RUNNING'})
wait_exec('grp:g1', 'grp:g2')
call('stopProcessGroup grp (no wait)', S.stopProcessGroup, 'grp', False)
wait_states({'grp:g1': 'STOPPED', 'grp:g2': 'STOPPED'})
call('startProcess grp:* (wait)', S.startProcess, 'grp:*', post=by_name)
wait_exec('grp:g1', 'grp:g2')
call('stopProcess grp:* (wait)', S.stopProcess, 'grp:*', post=by_name)
call('startProcess grp: (no wait)', S.startProcess, 'grp:', False)
wait_states({'grp:g1': 'RUNNING', 'grp:g2': 'RUNNING'})
wait_exec('grp:g1', 'grp:g2')
call('stopProcess grp:* (no wait)', S.stopProcess, 'grp:*', False)
wait_states({'grp:g1': 'STOPPED', 'grp:g2': 'STOPPED'})
call('startProcessGroup multi (wait)', S.startProcessGroup, 'multi', post=by_name)
call('startProcessGroup nope', S.startProcessGroup, 'nope')
call('stopProcessGroup nope', S.stopProcessGroup, 'nope')

# all: every fault the per-process start meets shows up in the list
call('startAllProcesses (no wait)', S.startAllProcesses, False)
wait_states({'fail:fail': 'FATAL', 'slow:slow': 'RUNNING', 'starting:starting': 'STARTING', 'once:once': 'EXITED'})
wait_exec('cat', 'echo', 'redir', 'grp:g1', 'grp:g2', 'multi:multi_00', 'multi:multi_01', 'starting')
call('stopAllProcesses (no wait)', S.stopAllProcesses, False)
until('all stopped', lambda: all(s in ('STOPPED', 'EXITED', 'FATAL') for s in states().values()))
call('getAllProcessInfo (all stopped)', S.getAllProcessInfo)
call('startAllProcesses (wait)', S.startAllProcesses, True, post=by_name)
wait_exec('cat', 'echo', 'redir', 'grp:g1', 'grp:g2', 'multi:multi_00', 'multi:multi_01', 'starting')
call('stopAllProcesses (wait)', S.stopAllProcesses, True, post=by_name)
call('startProcessGroup cat (wait)', S.startProcessGroup, 'cat')
call('startProcess echo', S.startProcess, 'echo')

# multicall, a deferred call inside holding the ones after it
call('system.multicall', Y.multicall, [
    {'methodName': 'supervisor.getAPIVersion'},
    {'methodName': 'supervisor.getProcessInfo', 'params': ['nope']},
    {'methodName': 'supervisor.getState', 'params': []},
    {'methodName': 'system.multicall', 'params': [[]]},
    {'params': []},
    {'methodName': 'supervisor.nope'},
    {'methodName': 'supervisor.getProcessInfo', 'params': []},
    {'methodName': 'supervisor.startProcess', 'params': ['slow']},
    {'methodName': 'supervisor.getProcessInfo', 'params': ['slow']},
    {'methodName': 'supervisor.startProcess', 'params': ['fail']},
    {'methodName': 'supervisor.stopProcess', 'params': ['slow', True]},
    {'methodName': 'supervisor.getProcessInfo', 'params': ['slow']},
    {'methodName': 'supervisor.stopProcessGroup', 'params': ['multi', False]},
    {'methodName': 'supervisor.startProcessGroup', 'params': ['grp', True]},
    {'methodName': 'supervisor.readProcessStdoutLog', 'params': ['echo', 0, -1]},
])
wait_states({'grp:g1': 'RUNNING', 'grp:g2': 'RUNNING', 'fail:fail': 'FATAL'})
call('system.multicall empty', Y.multicall, [])

# reloadConfig, then addProcessGroup / removeProcessGroup
call('reloadConfig (no change)', S.reloadConfig)
write_conf(without(BASE_CONF, 'program:multi').replace('command=/bin/sleep 1002', 'command=/bin/sleep 1003')
           + '\n[program:added]\ncommand=/bin/sleep 1000\nstartsecs=0\n'
           + '\n[program:added2]\ncommand=/bin/sleep 1000\nstartsecs=0\nautostart=false\npriority=1\n')
call('reloadConfig (added, changed, removed)', S.reloadConfig)
call('getAllConfigInfo after reread', S.getAllConfigInfo)
call('getAllProcessInfo after reread (nothing applied)', S.getAllProcessInfo)
call('addProcessGroup added', S.addProcessGroup, 'added')
wait_states({'added:added': 'RUNNING'})
wait_exec('added')
call('addProcessGroup added again', S.addProcessGroup, 'added')
call('addProcessGroup added2 (autostart=false)', S.addProcessGroup, 'added2')
call('addProcessGroup nope', S.addProcessGroup, 'nope')
call('addProcessGroup multi (removed from the config)', S.addProcessGroup, 'multi')
call('removeProcessGroup added (running)', S.removeProcessGroup, 'added')
call('removeProcessGroup nope', S.removeProcessGroup, 'nope')
call('stopProcessGroup added', S.stopProcessGroup, 'added')
call('removeProcessGroup added', S.removeProcessGroup, 'added')
call('removeProcessGroup multi', S.removeProcessGroup, 'multi')
call('removeProcessGroup added2', S.removeProcessGroup, 'added2')
# the update of a changed group: stop, remove, add
call('stopProcessGroup grp', S.stopProcessGroup, 'grp', post=by_name)
call('removeProcessGroup grp', S.removeProcessGroup, 'grp')
call('addProcessGroup grp', S.addProcessGroup, 'grp')
wait_states({'grp:g1': 'RUNNING', 'grp:g2': 'RUNNING'})
call('reloadConfig (after update)', S.reloadConfig)
call('getAllConfigInfo after update', S.getAllConfigInfo)
call('getAllProcessInfo after update', S.getAllProcessInfo)

# CANT_REREAD: a config made bad, then good again
write_conf(BASE_CONF + '\n[program:bad]\nstartsecs=0\n')
call('reloadConfig (bad config)', S.reloadConfig)
write_conf(BASE_CONF + '\n[program:bad]\ncommand=/bin/sleep 1000\nstartsecs=foo\n')
call('reloadConfig (bad value)', S.reloadConfig)
write_conf(BASE_CONF)
call('reloadConfig (good again)', S.reloadConfig)

# NO_FILE for the main log: removed under the daemon
os.remove(MAINLOG)
call('readLog (log file removed)', S.readLog, 0, 0)
call('clearLog (log file removed)', S.clearLog)

# restart: True, and the calls after it in the same multicall are refused
call('multicall restart', p.system.multicall, [
    {'methodName': 'supervisor.restart'},
    {'methodName': 'supervisor.getState'},
    {'methodName': 'supervisor.sendRemoteCommEvent', 'params': ['t', 'd']},
])


def back_up():
    q = proxy()
    return q.supervisor.getState()['statename'] == 'RUNNING' and all(
        i['statename'] == 'RUNNING' for i in q.supervisor.getAllProcessInfo() if i['name'] in ('cat', 'echo', 'g1', 'g2', 'redir'))


until('the daemon back after restart', back_up, timeout=30)
p = proxy()
S = p.supervisor
call('getState after restart', S.getState)
call('getAllProcessInfo after restart', S.getAllProcessInfo)
call('getPID after restart is the same daemon', S.getPID, post=lambda pid: pid == DAEMON_PID)

# shutdown last: the mood changes at once, so the calls after it in the same multicall are refused
call('multicall shutdown', p.system.multicall, [
    {'methodName': 'supervisor.shutdown'},
    {'methodName': 'supervisor.getState'},
    {'methodName': 'supervisor.getPID'},
    {'methodName': 'supervisor.shutdown'},
    {'methodName': 'system.listMethods', 'params': []},
], post=lambda r: [x if not isinstance(x, list) else len(x) > 40 for x in r])

json.dump({'calls': out, 'seconds': time.monotonic() - T0, 'times': times}, sys.stdout)
