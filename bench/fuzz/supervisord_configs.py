# SPDX-License-Identifier: MIT
# Child of the config fuzz: supervisord 4.2.5's own ServerOptions.realize() on the cases
# listed in a JSON file (argv[1]) from index argv[2] on, one JSON line per case: ok, the
# usage error it would print after "Error: ", or the traceback it would die with.
import importlib.util
import io
import json
import os
import resource
import sys

# Some configs make supervisord build billions of process configs; die of MemoryError
# rather than take the machine's memory.
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'unit', 'config', 'supervisord_config.py')
real_stdin, real_stdout = sys.stdin, sys.stdout
sys.stdin, sys.stdout = io.StringIO('[]'), io.StringIO()
spec = importlib.util.spec_from_file_location('supervisord_config', HARNESS)
harness = importlib.util.module_from_spec(spec)
spec.loader.exec_module(harness)
sys.stdin, sys.stdout = real_stdin, real_stdout

with open(sys.argv[1]) as f:
    cases = json.load(f)
for i in range(int(sys.argv[2]), len(cases)):
    c = cases[i]
    if c['kind'] == 'huge numprocs':
        # supervisord builds every process config of them: it never finishes (not asked).
        sys.stdout.write(json.dumps({'i': i, 'skipped': True}) + '\n')
        sys.stdout.flush()
        continue
    out = harness.run({'cwd': c['dir'], 'env': c['env'], 'args': ['-c', 'supervisord.conf']})
    line = {'i': i}
    if 'ok' in out:
        line['ok'] = True
    elif 'error' in out:
        line['error'] = out['error']
    else:
        line['crash'] = out['crash'].strip().split('\n')[-1]
    sys.stdout.write(json.dumps(line) + '\n')
    sys.stdout.flush()
