// Runs every compiled *.test.js under dist/ with Node's built-in test runner. The list is built
// here, not by `node --test`'s own search, so that extra arguments (e.g. a path filter) can narrow
// it and the timing-sensitive files can run after the others, alone.
import { globSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const filters = process.argv.slice(2);
const files = globSync('dist/**/*.test.js').filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
if (files.length === 0) {
  console.error('no test files found under dist/');
  process.exit(1);
}
// Files that time the gateway against its own timeouts run afterwards, alone. Next to another test
// file on this 2-core machine, the upstream read_timeout case used to answer 504 at ~560-600 ms
// instead of ~800 ms: undici's coarse timers, replaced by a native timer in UpstreamExchange. The
// suite stays alone until a full run next to the others has been measured on time.
const SOLO = ['/resilience/upstream-faults.test.js'];
const solo = files.filter((f) => SOLO.some((s) => f.endsWith(s)));
const batches = [files.filter((f) => !solo.includes(f)), solo].filter((b) => b.length > 0);
let status = 0;
for (const [i, batch] of batches.entries()) {
  const concurrency = i === 0 ? 2 : 1;
  const result = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...batch], { stdio: 'inherit' });
  if (result.status !== 0) status = result.status ?? 1;
}
process.exit(status);
