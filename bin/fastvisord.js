#!/usr/bin/env node
// fastvisord (and supervisord): runs the compiled daemon from dist/.
import '../dist/cli/run-supervisord.js';
