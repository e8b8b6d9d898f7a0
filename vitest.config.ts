import { defineConfig } from 'vitest/config';

// Projects as in STYLE.md §6: unit (pure, fake clock), native (the addon with
// real processes, once per backend), e2e and interop (daemon + real clients).
export default defineConfig({
  test: {
    // Tests start real processes; forks keep each file's addon instance apart.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'native', include: ['test/native/**/*.test.ts'] } },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'] } },
    ],
  },
});
