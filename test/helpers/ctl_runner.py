# SPDX-License-Identifier: MIT
# Runs Python supervisorctl's main() once per request, in one process, so a test
# file pays for Python's start-up once. One JSON request per stdin line:
#   {"argv": [...], "stdin": "...", "cwd": "...", "env": {...}}
# answered by one JSON line {"stdout", "stderr", "code"}. Start it without a
# controlling terminal (detached), or getpass() would read the real one.
import io
import json
import os
import sys
import getpass
import traceback
import warnings

sys.argv[0] = '/usr/bin/supervisorctl'
# A fresh process shows getpass's warning every time; so must we.
warnings.simplefilter('always', getpass.GetPassWarning)

from supervisor import options as sup_options  # noqa: E402
from supervisor import supervisorctl  # noqa: E402

real_stdout = sys.stdout
base_env = dict(os.environ)
base_cwd = os.getcwd()


def run(req):
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr, sys.stdin
    sys.stdout, sys.stderr = out, err
    sys.stdin = io.StringIO(req.get('stdin', ''))
    # Options binds sys.stdout/stderr as class attributes at import time.
    sup_options.Options.stdout, sup_options.Options.stderr = out, err
    os.environ.clear()
    os.environ.update(base_env)
    os.environ.update(req.get('env') or {})
    os.chdir(req.get('cwd') or base_cwd)
    try:
        supervisorctl.main(req['argv'])
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout, sys.stderr, sys.stdin = saved
    return {'stdout': out.getvalue(), 'stderr': err.getvalue(), 'code': code}


for line in sys.stdin:
    if not line.strip():
        continue
    real_stdout.write(json.dumps(run(json.loads(line))) + '\n')
    real_stdout.flush()
