// SPDX-License-Identifier: MIT
// What bundle-ctl.mjs and bundle-daemon.mjs share: one entry point of src/ and all
// it imports as one CommonJS file (esbuild), node: builtins and packages left as
// require()s. `import.meta.url` becomes the bundle's own URL: code that finds files
// from its own location (the addon, web/) does so from the bundle's, which is why
// a bundle sits as deep below the package root as the modules it was made from.
//
// Without esbuild (an install that left out the devDependencies) it says so, calls
// `remove` (a bundle left from before would now be stale) and exits 0: the bins
// then run tsc's dist/. A failed build also calls `remove` and exits 1.

/** The esbuild options that make such a bundle (bench/lib/build.ts bundles the daemon with them too). */
export const CJS_BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: `"use strict";\nconst __bundleUrl = require("node:url").pathToFileURL(__filename).href;` },
  logLevel: 'warning',
};

/**
 * @param {{ tag: string, entry: string, outfile: string, without: string, remove: () => void, options?: object }} spec
 * @returns {Promise<string>} the bundle's text
 */
export async function bundleCjs({ tag, entry, outfile, without, remove, options = {} }) {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch (e) {
    remove();
    console.warn(`${tag}: esbuild is not installed (${e.code ?? e.message}): ${without}`);
    process.exit(0);
  }
  try {
    const out = await esbuild.build({
      ...CJS_BUNDLE_OPTIONS,
      entryPoints: [entry],
      outfile,
      write: false,
      ...options,
    });
    return out.outputFiles[0].text;
  } catch (e) {
    // A failed build must not leave the previous bundle to run stale code.
    remove();
    console.error(`${tag}: ${e.message}`);
    process.exit(1);
  }
}
