# SPDX-License-Identifier: MIT
# Drives a program on a pseudo-terminal, expect-style, for the interactive shell
# tests. Reads one JSON object on stdin:
#   {"argv": [...], "cwd": "...", "env": {...}, "cols": 80, "rows": 24,
#    "steps": [{"send": "sta\t"}, {"expect": "regex", "timeout": 5}, {"sleep": 0.2},
#              {"wait_exit": 5}]}
# and prints {"raw", "clean", "failed": null | {step, index}, "code", "signal"}.
# "clean" is the output with escape sequences, bells and CRs removed;
# expect searches it from just after the previous match. The program's process
# group is killed at the end in any case.
import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time

spec = json.load(sys.stdin)
pid, fd = pty.fork()
if pid == 0:
    os.chdir(spec.get('cwd') or '.')
    env = dict(os.environ)
    env.update(spec.get('env') or {})
    env.setdefault('TERM', 'xterm')
    os.execvpe(spec['argv'][0], spec['argv'], env)

fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', spec.get('rows', 24), spec.get('cols', 80), 0, 0))

ANSI = re.compile(rb'\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[=>()][0-9A-B]?|\x07')
raw = b''
status = None


def clean():
    return ANSI.sub(b'', raw).replace(b'\r\n', b'\n').replace(b'\r', b'').decode('utf-8', 'replace')


def pump(timeout):
    """Reads what arrives within timeout: 'data', 'idle' (nothing came) or 'eof' (the program has gone)."""
    global raw
    r, _, _ = select.select([fd], [], [], max(0.0, timeout))
    if not r:
        return 'idle'
    try:
        data = os.read(fd, 65536)
    except OSError:
        return 'eof'
    if not data:
        return 'eof'
    raw += data
    return 'data'


def reap(block):
    global status
    if status is None:
        try:
            done, st = os.waitpid(pid, 0 if block else os.WNOHANG)
            if done:
                status = st
        except ChildProcessError:
            pass


failed = None
pos = 0
for index, step in enumerate(spec['steps']):
    if 'send' in step:
        os.write(fd, step['send'].encode())
    elif 'sleep' in step:
        end = time.time() + step['sleep']
        while time.time() < end and pump(end - time.time()) != 'eof':
            pass
    elif 'expect' in step:
        pattern = re.compile(step['expect'], re.S)
        end = time.time() + step.get('timeout', 5)
        while True:
            m = pattern.search(clean(), pos)
            if m:
                pos = m.end()
                break
            alive = pump(min(0.05, end - time.time())) != 'eof'
            if time.time() > end or not alive:
                m = pattern.search(clean(), pos)
                if m:
                    pos = m.end()
                    break
                failed = {'index': index, 'step': step}
                break
        if failed:
            break
    elif 'wait_exit' in step:
        end = time.time() + step['wait_exit']
        while time.time() < end:
            if pump(0.05) == 'eof':
                break
        reap(False)
        end2 = time.time() + max(0.0, end - time.time())
        while status is None and time.time() < end2:
            time.sleep(0.02)
            reap(False)
        if status is None:
            failed = {'index': index, 'step': step}
            break

# Drain what is still coming, then make sure nothing is left behind.
while pump(0.1) == 'data':
    pass
for target in (-pid, pid):
    try:
        os.kill(target, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
reap(True)
code = os.WEXITSTATUS(status) if status is not None and os.WIFEXITED(status) else None
sig = os.WTERMSIG(status) if status is not None and os.WIFSIGNALED(status) else None
json.dump({'raw': raw.decode('utf-8', 'replace'), 'clean': clean(), 'failed': failed, 'code': code, 'signal': sig}, sys.stdout)
