/** Load balancing over an upstream's targets (their addresses are read in config/target-address.ts). */
export type { Balancer, BalancerTarget } from './balancer.js';
export { createBalancer, BALANCER_ALGORITHMS } from './create-balancer.js';
export type { BalancerAlgorithm, CreateBalancerOptions } from './create-balancer.js';
export { RoundRobinBalancer } from './round-robin.js';
export type { RoundRobinOptions } from './round-robin.js';
export { ConsistentHashingBalancer } from './consistent-hashing.js';
export type { ConsistentHashingOptions } from './consistent-hashing.js';
export { LeastConnectionsBalancer } from './least-connections.js';
export { LatencyBalancer, DECAY_TIME_MS } from './latency.js';
export type { LatencyOptions } from './latency.js';
export { xxhash32, xxhash32String } from './xxhash32.js';
