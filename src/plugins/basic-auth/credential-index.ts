/**
 * The basic-auth credentials of a configuration by username, built when the configuration loads
 * and shared by every basic-auth instance of it. Each entry keeps its consumer, whose id salts the
 * stored password hash.
 */
import { passwordMatches } from '../../config/basic-auth-password.js';
import type { BasicAuthCredential, Config, Consumer } from '../../config/types.js';

export interface BasicAuthMatch {
  readonly credential: BasicAuthCredential;
  readonly consumer: Consumer;
}

export interface BasicAuthIndex {
  /** The credential of `username`, or null. */
  find(username: string): BasicAuthMatch | null;
}

const indexes = new WeakMap<Config, BasicAuthIndex>();

/** Whether `password` is the password of `match` (constant time on the hashes). */
export function passwordOf(match: BasicAuthMatch, password: string): boolean {
  return passwordMatches(match.consumer.id, match.credential.password, password);
}

/** The credentials of `config` by username. */
export function basicAuthIndex(config: Config): BasicAuthIndex {
  let index = indexes.get(config);
  if (index === undefined) {
    const consumers = new Map(config.consumers.map((c) => [c.id, c]));
    const byUsername = new Map<string, BasicAuthMatch>();
    for (const credential of config.basicauth_credentials) {
      const consumer = consumers.get(credential.consumer);
      if (consumer !== undefined) byUsername.set(credential.username, { credential, consumer });
    }
    index = { find: (username) => byUsername.get(username) ?? null };
    indexes.set(config, index);
  }
  return index;
}
