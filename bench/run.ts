// Benchmark dispatcher: `node dist/bench/run.js <name>` runs the exported run() of bench/<name>.ts
// (`npm run bench -- gemm` builds first). Benchmarks print JSON lines, one per measurement.

import { ArgumentError } from '../src/util/errors.js';

interface BenchModule {
  run(args: string[]): Promise<void> | void;
}

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  if (!name || !/^[a-z0-9_-]+$/i.test(name)) {
    throw new ArgumentError(`usage: node dist/bench/run.js <name> [args...], with bench/<name>.ts exporting run(); got '${name ?? ''}'`);
  }
  const module = (await import(`./${name}.js`)) as BenchModule;
  if (typeof module.run !== 'function') throw new ArgumentError(`bench/${name}.ts does not export run()`);
  await module.run(args);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
