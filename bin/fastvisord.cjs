#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// fastvisord (and supervisord): the daemon. CommonJS, as the ctl's bins: an ES
// module entry point would start Node's ESM loader and keep it for the daemon's
// whole life. Runs the first of:
//   dist/cli/fastvisord.cjs      the one-file bundle `npm run build` makes
//                                (scripts/bundle-daemon.mjs: 2-5 MiB less RSS)
//   dist/cli/run-supervisord.js  tsc's output (a build without esbuild)
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const cli = path.join(__dirname, '..', 'dist', 'cli');
const bundle = path.join(cli, 'fastvisord.cjs');
if (fs.existsSync(bundle)) {
  require(bundle);
} else {
  void import(require('node:url').pathToFileURL(path.join(cli, 'run-supervisord.js')).href);
}
