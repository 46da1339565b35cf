// oidc-provider's storage adapter for the IdP: in memory, one per running IdP and shared by the
// provider instances a key rotation makes, so opaque tokens survive a rotation (not a restart).
// oidc-provider's own memory adapter prints a production warning on every start; this one is
// the same idea, sized for a development server.
import type { Adapter, AdapterPayload } from 'oidc-provider';

interface Entry {
  payload: AdapterPayload;
  /** Epoch ms; Infinity when the model has no expiry. */
  expiresAt: number;
}

/** Most entries kept; the oldest go first beyond it. */
const maxEntries = 50_000;

export interface TokenStore {
  adapterFactory: (model: string) => Adapter;
  clear(): void;
}

export function createTokenStore(clockToleranceSeconds: number): TokenStore {
  const entries = new Map<string, Entry>();
  const index = new Map<string, string>();

  const get = (key: string): AdapterPayload | undefined => {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= Date.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry.payload;
  };

  const set = (key: string, payload: AdapterPayload, expiresIn: number | undefined): void => {
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + (expiresIn + clockToleranceSeconds) * 1000 : Infinity;
    entries.delete(key);
    entries.set(key, { payload, expiresAt });
    // A Map iterates in insertion order: the first keys are the oldest.
    for (const k of entries.keys()) {
      if (entries.size <= maxEntries) break;
      entries.delete(k);
    }
  };

  const adapterFactory = (model: string): Adapter => {
    const key = (id: string) => `${model}:${id}`;
    return {
      upsert(id, payload, expiresIn) {
        set(key(id), payload, expiresIn);
        if (model === 'Session' && typeof payload.uid === 'string') index.set(`uid:${payload.uid}`, id);
        if (typeof payload.userCode === 'string') index.set(`userCode:${payload.userCode}`, id);
        if (typeof payload.grantId === 'string') index.set(`grant:${payload.grantId}:${key(id)}`, key(id));
        return Promise.resolve();
      },
      find(id) {
        return Promise.resolve(get(key(id)));
      },
      findByUid(uid) {
        const id = index.get(`uid:${uid}`);
        return Promise.resolve(id === undefined ? undefined : get(key(id)));
      },
      findByUserCode(userCode) {
        const id = index.get(`userCode:${userCode}`);
        return Promise.resolve(id === undefined ? undefined : get(key(id)));
      },
      consume(id) {
        const payload = get(key(id));
        if (payload !== undefined) payload.consumed = Math.floor(Date.now() / 1000);
        return Promise.resolve();
      },
      destroy(id) {
        entries.delete(key(id));
        return Promise.resolve();
      },
      revokeByGrantId(grantId) {
        const prefix = `grant:${grantId}:`;
        for (const [k, target] of index) {
          if (k.startsWith(prefix)) {
            entries.delete(target);
            index.delete(k);
          }
        }
        return Promise.resolve();
      },
    };
  };

  return {
    adapterFactory,
    clear() {
      entries.clear();
      index.clear();
    },
  };
}
