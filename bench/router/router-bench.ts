/**
 * Router micro-benchmark: ns per match with 1 route and with 10,000 routes, and the ratio.
 * Run: `npx tsc -p tsconfig.json && node dist/bench/router/router-bench.js`. Prints figures only;
 * nothing here asserts a time.
 */
import type { Route } from '../../src/config/types.js';
import { compileRouter, type RouterOptions, type RouterRequest } from '../../src/router/index.js';
import { makeRoute } from '../../src/router/route-fixture.js';

const ITERATIONS = 1_000_000;
const ROUNDS = 5;

function route(fields: Partial<Route> & { order: number }): Route {
  return makeRoute({ id: `route-${fields.order}`, service: 'service', ...fields });
}

function request(host: string, path: string): RouterRequest {
  return { protocol: 'https', method: 'GET', host, path, headers: {}, sni: host };
}

type Scenario = (n: number) => { routes: Route[]; requests: RouterRequest[] };

/** Prefix routes `/svc<i>/api` (no hosts); requests spread over all of them. */
const prefixRoutes: Scenario = (n) => ({
  routes: Array.from({ length: n }, (_, i) => route({ order: i, paths: [`/svc${i}/api`] })),
  requests: Array.from({ length: 1024 }, (_, i) => request('gw.example.com', `/svc${(i * 7919) % n}/api/items/42`)),
});

/** The same routes, every request for route 0: what is left of the ratio is memory locality. */
const prefixRoutesOneTarget: Scenario = (n) => ({
  routes: prefixRoutes(n).routes,
  requests: Array.from({ length: 1024 }, () => request('gw.example.com', '/svc0/api/items/42')),
});

/** Host routes `tenant<i>.example.com` with path `/`. */
const hostRoutes: Scenario = (n) => ({
  routes: Array.from({ length: n }, (_, i) => route({ order: i, hosts: [`tenant${i}.example.com`], paths: ['/'] })),
  requests: Array.from({ length: 1024 }, (_, i) => request(`tenant${(i * 7919) % n}.example.com`, '/orders/42')),
});

/** Regex routes `~/v<i>/items/\d+$`: linear by nature, shown for scale. */
const regexRoutes: Scenario = (n) => ({
  routes: Array.from({ length: n }, (_, i) => route({ order: i, paths: [`~/v${i}/items/\\d+$`] })),
  requests: Array.from({ length: 1024 }, (_, i) => request('gw.example.com', `/v${(i * 7919) % n}/items/42`)),
});

function nsPerMatch(scenario: Scenario, n: number, options: RouterOptions): number {
  const { routes, requests } = scenario(n);
  const router = compileRouter(routes, options);
  let found = 0;
  const run = (count: number): void => {
    for (let i = 0; i < count; i++) if (router.match(requests[i & 1023] as RouterRequest) !== null) found++;
  };
  run(ITERATIONS / 4); // warm-up
  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    run(ITERATIONS);
    times.push(Number(process.hrtime.bigint() - start) / ITERATIONS);
  }
  if (found === 0) throw new Error('benchmark requests matched nothing');
  return times.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)] ?? NaN; // median
}

function report(label: string, scenario: Scenario, large: number, options: RouterOptions): void {
  const one = nsPerMatch(scenario, 1, options);
  const many = nsPerMatch(scenario, large, options);
  console.log(
    `${label.padEnd(36)} 1 route: ${one.toFixed(0).padStart(5)} ns/match   ${large} routes: ${many.toFixed(0).padStart(6)} ns/match   ratio ${(many / one).toFixed(2)}`,
  );
}

console.log(`node ${process.version}, ${ITERATIONS} matches per round, median of ${ROUNDS} rounds`);
for (const [name, options] of [
  ['cacheSize 0', { cacheSize: 0 }],
  ['cacheSize default (5000; in use only when a route has a regex path)', {}],
] as const) {
  console.log(`-- ${name}`);
  report('prefix routes', prefixRoutes, 10_000, options);
  report('prefix routes, one target', prefixRoutesOneTarget, 10_000, options);
  report('host routes', hostRoutes, 10_000, options);
  report('regex routes (linear by nature)', regexRoutes, 100, options);
}
