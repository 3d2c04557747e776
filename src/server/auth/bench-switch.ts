/**
 * @module server/auth/bench-switch
 * The one way to build a server without its auth chain: the benchmark `bench/auth` compares the
 * same route with and without it (issue 5: authenticated requests/s >= 0.85x unauthenticated).
 * The switch is a `unique symbol` key on the server options, so no configuration file, environment
 * variable, flag or JSON body can set it: only code that imports this module and passes the symbol
 * in-process. `fetchml up`/`server` never do (a test checks that nothing under `src/` but the
 * server's own wiring names it). Every request then runs as {@link BENCHMARK_PRINCIPAL}.
 */
import type { Principal } from '../types.ts';

/** Key of the benchmark-only option of `createServer`. */
export const UNAUTHENTICATED_FOR_BENCHMARK: unique symbol = Symbol(
  'fetchml.unauthenticatedForBenchmark',
);

/** The benchmark-only option, added to `ServerOptions` by `createServer`'s signature. */
export interface BenchmarkOnlyOptions {
  /** Skip the whole auth chain; every request is {@link BENCHMARK_PRINCIPAL}. Benchmarks only. */
  [UNAUTHENTICATED_FOR_BENCHMARK]?: true;
}

/** Who every request is when the auth chain is skipped. */
export const BENCHMARK_PRINCIPAL: Principal = {
  user: 'admin',
  role: 'admin',
  key_id: 'benchmark-unauthenticated',
};
