// SPDX-License-Identifier: MIT
// Types of cjs-bundle.mjs for the TypeScript that imports it (bench/lib/build.ts).
import type { BuildOptions } from 'esbuild';

export declare const CJS_BUNDLE_OPTIONS: BuildOptions;
export declare function bundleCjs(spec: {
  tag: string;
  entry: string;
  outfile: string;
  without: string;
  remove: () => void;
  options?: BuildOptions;
}): Promise<string>;
