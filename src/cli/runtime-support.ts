/**
 * Which Node.js lines Portcullis runs on. A security gateway must run on a runtime that still gets
 * security releases: the LTS lines from 24 on (package.json `engines` says the same). The package
 * brings one (the `node-linux-*` optional dependency: npm scripts and `npx portcullis` put it first
 * on the PATH), so this refusal only meets a user who started dist/ with an older system `node`.
 */
export const minimumNodeMajor = 24;

/** Null when `nodeVersion` (as `process.version`) is supported, otherwise the reason, for one line. */
export function unsupportedRuntime(nodeVersion: string): string | null {
  const major = Number(/^v?(\d+)\./.exec(nodeVersion)?.[1]);
  if (Number.isInteger(major) && major >= minimumNodeMajor) return null;
  return (
    `Node.js ${nodeVersion} is not supported: run on Node.js ${minimumNodeMajor} LTS or later. ` +
    `The package pins one: 'npx portcullis …' or 'node_modules/.bin/node dist/src/cli/main.js …' use it`
  );
}
