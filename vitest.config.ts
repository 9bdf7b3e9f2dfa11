import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // The suite starts real databases and servers: bound parallelism on 2-core machines.
    maxWorkers: 2,
    // Each test file is a new process that compiles PGlite's WebAssembly again; letting V8 optimize
    // it on background threads costs those files 10-20% more CPU than the faster code wins back
    // (the budget is one no function uses up, as in the CLI: src/cli/main.ts).
    execArgv: ['--wasm-tiering-budget=2000000000'],
  },
});
