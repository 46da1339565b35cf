/** Load balancing over an upstream's targets (their addresses are read in config/target-address.ts). */
export { RoundRobinBalancer } from './round-robin.js';
export type { BalancerTarget, RoundRobinOptions } from './round-robin.js';
