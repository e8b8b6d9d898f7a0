#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// fastvisorctl (and supervisorctl): fastvisor's supervisorctl, no Python needed.
// CommonJS, unlike the other bins: an ES module entry point makes node start its
// ESM loader, a few ms that a one-shot command cannot spare. Runs the first of:
//   dist/fastvisorctl.cjs        the one-file bundle `npm run build` makes, compiled
//                                with V8's code cache when there is one
//   dist/cli/supervisorctl.js    tsc's output (a build without esbuild)
//   src/cli/supervisorctl.ts     through tsx (a checkout that was never built)
'use strict';
const fs = require('node:fs');
const path = require('node:path');

/**
 * Compiles the bundle as require() would, but with V8's code cache when one was made
 * for this very bundle (its first line names its build) on this node. The first run
 * without one makes it on exit, where the directory is writable: the functions the
 * command compiled are in it then. A cache that is missing, rejected or unwritable
 * only costs the time it would have saved.
 */
function loadBundle(file) {
  const vm = require('node:vm');
  const source = fs.readFileSync(file, 'utf8');
  const build = /^\/\/ fastvisorctl build ([0-9a-f]+)/.exec(source);
  const dir = path.dirname(file);
  const cacheFile = build && path.join(dir, `.fastvisorctl-${build[1]}-${process.version}-${process.arch}.v8cache`);
  let cachedData;
  if (cacheFile) {
    try {
      cachedData = fs.readFileSync(cacheFile);
    } catch {
      // none yet, or unreadable
    }
  }
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new vm.Script(wrapped, { filename: file, cachedData });
  if (cacheFile && (cachedData === undefined || script.cachedDataRejected)) {
    process.once('exit', () => {
      // Renamed into place: a reader sees a whole cache or none.
      const tmp = `${cacheFile}.${process.pid}`;
      try {
        fs.writeFileSync(tmp, script.createCachedData());
        fs.renameSync(tmp, cacheFile);
      } catch {
        fs.rmSync(tmp, { force: true });
      }
    });
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, require, module, file, dir);
  return module.exports;
}

const dist = path.join(__dirname, '..', 'dist');
const bundle = path.join(dist, 'fastvisorctl.cjs');
if (fs.existsSync(bundle)) {
  void loadBundle(bundle).run();
} else {
  const { pathToFileURL } = require('node:url');
  const compiled = path.join(dist, 'cli', 'supervisorctl.js');
  const ctl = fs.existsSync(compiled)
    ? import(pathToFileURL(compiled).href)
    : import('tsx/esm').then(() => import(pathToFileURL(path.join(__dirname, '..', 'src', 'cli', 'supervisorctl.ts')).href));
  void ctl.then((c) => c.run());
}
