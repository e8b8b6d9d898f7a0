#!/usr/bin/env node
// supervisord (and fastvisord): runs the compiled daemon from dist/.
import '../dist/cli/run-supervisord.js';
