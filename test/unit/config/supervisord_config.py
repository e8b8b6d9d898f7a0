# SPDX-License-Identifier: MIT
# Runs supervisord 4.2.5's own option parsing (ServerOptions.realize, and
# ClientOptions for [supervisorctl]) on each case from stdin and prints what it
# made of it as JSON, or the usage error it would print after "Error: ".
import json
import os
import sys
import tempfile
import traceback

from supervisor.datatypes import Automatic, RestartUnconditionally, RestartWhenExitUnexpected
from supervisor.events import getEventNameByType
from supervisor.options import ClientOptions, ServerOptions


class Usage(Exception):
    pass


def usage(msg):
    raise Usage(str(msg))


def logfile(v):
    if v is Automatic:
        return {'kind': 'auto'}
    if v is None:
        return {'kind': 'none'}
    return {'kind': 'path', 'path': v}


def autorestart(v):
    if v is RestartUnconditionally:
        return 'true'
    if v is RestartWhenExitUnexpected:
        return 'unexpected'
    assert v is False, v
    return 'false'


def proc(pc):
    d = {k: getattr(pc, k) for k in (
        'name', 'command', 'directory', 'umask', 'priority', 'autostart', 'startsecs', 'startretries', 'uid',
        'stdout_logfile_maxbytes', 'stdout_logfile_backups', 'stdout_capture_maxbytes', 'stdout_events_enabled',
        'stdout_syslog', 'stderr_logfile_maxbytes', 'stderr_logfile_backups', 'stderr_capture_maxbytes',
        'stderr_events_enabled', 'stderr_syslog', 'stopwaitsecs', 'stopasgroup', 'killasgroup', 'exitcodes',
        'redirect_stderr', 'environment', 'serverurl')}
    d['autorestart'] = autorestart(pc.autorestart)
    d['stopsignal'] = int(pc.stopsignal)
    d['stdout_logfile'] = logfile(pc.stdout_logfile)
    d['stderr_logfile'] = logfile(pc.stderr_logfile)
    return d


def spec(fn):
    return '%s:%s' % (fn.__module__, fn.__name__)


def group(g):
    d = {'name': g.name, 'priority': g.priority, 'cls': type(g).__name__,
         'processes': [proc(p) for p in g.process_configs]}
    if hasattr(g, 'buffer_size'):
        d['buffer_size'] = g.buffer_size
        d['events'] = sorted(getEventNameByType(e) for e in g.pool_events)
        d['result_handler'] = spec(g.result_handler)
    sc = getattr(g, 'socket_config', None)
    if sc is not None:
        d['socket'] = {'url': sc.url, 'backlog': sc.backlog, 'mode': getattr(sc, 'mode', None),
                       'owner': list(sc.owner) if getattr(sc, 'owner', None) else None}
    return d


def server(c):
    d = {k: c.get(k) for k in ('name', 'section', 'username', 'password')}
    if c['family'] == 1:  # AF_UNIX
        d.update(kind='unix', file=c['file'], chmod=c['chmod'],
                 chown=None if tuple(c['chown']) == (-1, -1) else list(c['chown']))
    else:
        d.update(kind='inet', host=c['host'], port=c['port'])
    return d


def server_options(case):
    o = ServerOptions()
    o.usage = usage
    o.realize(args=case['args'])
    s = o.configroot.supervisord
    return {
        'supervisord': {
            'logfile': o.logfile, 'logfile_maxbytes': o.logfile_maxbytes, 'logfile_backups': o.logfile_backups,
            'loglevel': o.loglevel, 'pidfile': o.pidfile, 'umask': o.umask, 'nodaemon': bool(o.nodaemon),
            'silent': bool(o.silent), 'minfds': o.minfds, 'minprocs': o.minprocs, 'nocleanup': bool(o.nocleanup),
            'childlogdir': o.childlogdir, 'user': o.user, 'uid': o.uid, 'gid': o.gid, 'directory': o.directory,
            'strip_ansi': bool(o.strip_ansi), 'environment': s.environment, 'identifier': o.identifier,
        },
        'groups': [group(g) for g in o.process_group_configs],
        'servers': [server(c) for c in o.server_configs],
        'serverurl': o.serverurl,
        'rpcinterfaces': [{'name': n, 'factory': spec(f), 'extras': x} for n, f, x in o.rpcinterface_factories],
        'warnings': o.parse_warnings,
        'infos': o.parse_infos,
    }


def client_options(case):
    o = ClientOptions()
    o.usage = usage
    o.realize(args=case['args'])
    return {k: getattr(o, k) for k in ('serverurl', 'username', 'password', 'prompt', 'history_file')}


def run(case):
    os.chdir(case['cwd'])
    os.environ.clear()
    os.environ.update(case['env'])
    tempfile.tempdir = None  # gettempdir() caches; each case has its own $TMPDIR
    try:
        if case.get('client'):
            return {'ok': client_options(case)}
        return {'ok': server_options(case)}
    except Usage as e:
        return {'error': str(e)}
    except Exception:
        return {'crash': traceback.format_exc()}


cases = json.load(sys.stdin)
json.dump([run(c) for c in cases], sys.stdout)
