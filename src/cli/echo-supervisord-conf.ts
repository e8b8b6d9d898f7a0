// SPDX-License-Identifier: MIT
// `echo_supervisord_conf`: prints a sample supervisord.conf to start from, as
// supervisor's echo_supervisord_conf does (`echo_supervisord_conf > /etc/supervisord.conf`).
// Our own text: every section with supervisord's defaults, commented out where
// optional; the file works unchanged under fastvisor and under supervisord.
export const SAMPLE_CONF = `; supervisord.conf -- a starting point. fastvisor and supervisord 4.2.5 read it alike.
; Lines starting with ; or # are comments, and so is the rest of a line after " ;".
; %(here)s expands to this file's directory, %(ENV_HOME)s to $HOME, and so on.
; Every commented-out option below shows its default.

; Where supervisorctl and the web page reach the daemon: a unix socket ...
[unix_http_server]
file=/tmp/supervisor.sock
;chmod=0700
;chown=user:group
;username=admin
;password=secret

; ... and/or a TCP port (serves the web page too). password may be {SHA}<sha1 hex>.
;[inet_http_server]
;port=127.0.0.1:9001
;username=admin
;password=secret

[supervisord]
logfile=/tmp/supervisord.log
;logfile_maxbytes=50MB
;logfile_backups=10
;loglevel=info
pidfile=/tmp/supervisord.pid
;nodaemon=false
;silent=false
;minfds=1024
;minprocs=200
;umask=022
;user=
;identifier=supervisor
;directory=
;nocleanup=false
;childlogdir=/tmp
;environment=KEY="value",OTHER="value"
;strip_ansi=false

; Keep this section: without it there is no supervisor.* API for supervisorctl.
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix:///tmp/supervisor.sock
;serverurl=http://127.0.0.1:9001
;username=admin
;password=secret
;prompt=supervisor
;history_file=~/.supervisorctl_history

; One section per program. Only command= is required.
;[program:web]
;command=/usr/local/bin/web --port 8080
;process_name=%(program_name)s
;numprocs=1
;numprocs_start=0
;directory=
;umask=
;priority=999
;autostart=true
;startsecs=1
;startretries=3
;autorestart=unexpected
;exitcodes=0
;stopsignal=TERM
;stopwaitsecs=10
;stopasgroup=false
;killasgroup=false
;user=
;redirect_stderr=false
;stdout_logfile=AUTO
;stdout_logfile_maxbytes=50MB
;stdout_logfile_backups=10
;stdout_capture_maxbytes=0
;stdout_events_enabled=false
;stderr_logfile=AUTO
;stderr_logfile_maxbytes=50MB
;stderr_logfile_backups=10
;stderr_capture_maxbytes=0
;stderr_events_enabled=false
;environment=
;serverurl=AUTO

; An event listener pool: it reads events on stdin (see supervisor.childutils).
;[eventlistener:alerts]
;command=/usr/local/bin/crash-alert
;events=PROCESS_STATE_EXITED
;buffer_size=10
;priority=-1

; Programs started, stopped and updated together.
;[group:backend]
;programs=web,worker
;priority=999

; Further files, relative to this one; globs allowed.
;[include]
;files=conf.d/*.conf
`;

process.stdout.write(SAMPLE_CONF);
