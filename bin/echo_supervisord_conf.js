#!/usr/bin/env node
// echo_supervisord_conf: prints a sample supervisord.conf.
import '../dist/cli/echo-supervisord-conf.js';
