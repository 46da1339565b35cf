/**
 * The nodes of a PostgreSQL cluster, as each one reports itself (`cluster_nodes`): its id, host
 * name, the hash of the configuration it serves and when it last said so. A node whose hash differs
 * from the others', or that stopped reporting, is stale: `GET /clustering/nodes` shows it.
 */
import { hostname } from 'node:os';
import type pg from 'pg';

export interface ClusterNode {
  readonly id: string;
  readonly hostname: string;
  readonly config_hash: string | null;
  /** Unix seconds, as Kong's `last_seen`. */
  readonly last_seen: number;
}

/** This node's report, made on every version check. */
export async function reportNode(pool: pg.Pool, id: string, configHash: string): Promise<void> {
  await pool.query(
    `INSERT INTO cluster_nodes (id, hostname, config_hash, last_seen) VALUES ($1, $2, $3, now())
     ON CONFLICT (id) DO UPDATE SET hostname = EXCLUDED.hostname, config_hash = EXCLUDED.config_hash, last_seen = now()`,
    [id, hostname(), configHash],
  );
}

/** The nodes that reported within `withinMs`, most recent first. */
export async function recentNodes(pool: pg.Pool, withinMs: number): Promise<ClusterNode[]> {
  const { rows } = await pool.query<{ id: string; hostname: string; config_hash: string | null; last_seen: Date }>(
    `SELECT id, hostname, config_hash, last_seen FROM cluster_nodes WHERE last_seen > now() - make_interval(secs => $1) ORDER BY last_seen DESC, id`,
    [withinMs / 1000],
  );
  return rows.map((r) => ({ id: r.id, hostname: r.hostname, config_hash: r.config_hash, last_seen: Math.floor(r.last_seen.getTime() / 1000) }));
}
