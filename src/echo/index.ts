// The built-in upstream for the quickstart and the tests: an httpbin look-alike on node:http(s).
export { startEchoServer } from './server.js';
export type { EchoServer, EchoServerOptions } from './server.js';
export { seededBytes } from './bytes.js';
