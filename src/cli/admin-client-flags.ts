/** Flags shared by `apply`, `sync` and `dump`, and the client they describe. */
import { AdminClient } from './admin-client.js';
import { stringFlag, type FlagSpec, type FlagValues } from './flags.js';

export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:8001';

export const adminClientFlags: Record<string, FlagSpec> = {
  'admin-url': { type: 'string', description: 'Admin API of the gateway', defaultText: DEFAULT_ADMIN_URL },
  'admin-token': { type: 'string', description: 'Token the admin API requires (--admin-token of start)' },
};

export function adminClientFrom(values: FlagValues): AdminClient {
  return new AdminClient({ url: stringFlag(values, 'admin-url') ?? DEFAULT_ADMIN_URL, token: stringFlag(values, 'admin-token') ?? null });
}
