/**
 * `GET /clustering/nodes`: the nodes serving this configuration and the hash each one serves (a node
 * whose hash differs, or that stopped reporting, is stale). With --database postgres the nodes that
 * reported to the database recently; with the file store, this node alone.
 */
import { hostname } from 'node:os';
import type { ClusterNode } from '../store/postgres/cluster-nodes.js';
import { StoreUnavailableError } from '../store/config-store.js';

export type { ClusterNode };

export interface ClusterSource {
  nodes(): Promise<ClusterNode[]>;
}

/** The answer's body, Kong's list shape. */
export async function clusterNodes(source: ClusterSource | null, self: { readonly id: string; readonly configHash: string }): Promise<{ data: ClusterNode[]; next: null }> {
  if (source === null) return { data: [{ id: self.id, hostname: hostname(), config_hash: self.configHash, last_seen: Math.floor(Date.now() / 1000) }], next: null };
  try {
    return { data: await source.nodes(), next: null };
  } catch (error) {
    throw new StoreUnavailableError(`the cluster's nodes cannot be read: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
