#!/usr/bin/env node
// pidproxy: passes supervisord's signals to a self-daemonizing program via its pid file.
import '../dist/cli/pidproxy.js';
