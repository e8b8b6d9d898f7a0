# SPDX-License-Identifier: MIT
# Runs the real supervisorctl once per request, each time in a fresh forked
# child of this process, which has imported it already: every command gets its
# own process (own fds, own exit status, no state left from the last one) and
# the test pays Python's start-up once. One JSON request per stdin line,
#   {"argv": ["-c", CONF, "status"]}
# answered by one JSON line {"stdout", "stderr", "code"}. The child's stdin is
# /dev/null, stdout and stderr are files read back after it exits.
#
#   /usr/bin/python3 ctl_zygote.py
import json
import os
import sys
import tempfile
import traceback

from supervisor import supervisorctl

SUPERVISORCTL = '/usr/bin/supervisorctl'


def child(argv, out_path, err_path):
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(os.open(out_path, os.O_WRONLY), 1)
    os.dup2(os.open(err_path, os.O_WRONLY), 2)
    sys.argv = [SUPERVISORCTL] + argv
    code = 0
    try:
        supervisorctl.main(argv)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def run(argv):
    with tempfile.TemporaryDirectory() as tmp:
        out_path, err_path = os.path.join(tmp, 'out'), os.path.join(tmp, 'err')
        for path in (out_path, err_path):
            open(path, 'w').close()
        pid = os.fork()
        if pid == 0:
            child(argv, out_path, err_path)
        _, status = os.waitpid(pid, 0)
        with open(out_path, encoding='utf-8', errors='replace') as f:
            out = f.read()
        with open(err_path, encoding='utf-8', errors='replace') as f:
            err = f.read()
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
    return {'stdout': out, 'stderr': err, 'code': code}


for line in sys.stdin:
    if line.strip():
        sys.stdout.write(json.dumps(run(json.loads(line)['argv'])) + '\n')
        sys.stdout.flush()
