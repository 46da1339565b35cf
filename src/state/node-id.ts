/**
 * The node's name (Kong's node id): `--node-id`, else the id kept in `<prefix>/node.id`, made once
 * (a random UUID) the first time a gateway starts with that prefix, so a node keeps its name across
 * restarts and `/clustering/nodes` shows the same node, not a new one per start.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFileOnce } from '../util/private-file.js';

const NODE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function checked(id: string, where: string): string {
  if (!NODE_ID.test(id)) throw new Error(`${where}: a node id is 1 to 128 letters, digits and . _ : -, not '${id}'`);
  return id;
}

export async function loadOrCreateNodeId(prefix: string, given: string | null): Promise<string> {
  if (given !== null) return checked(given, '--node-id');
  const file = join(prefix, 'node.id');
  try {
    return checked((await readFile(file, 'utf8')).trim(), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(prefix, { recursive: true });
  const id = randomUUID();
  // Another process created it first: use that one.
  return (await createFileOnce(file, `${id}\n`)) ? id : checked((await readFile(file, 'utf8')).trim(), file);
}
