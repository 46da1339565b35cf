/** Telling "Portcullis does not do that yet" apart from "that is not a protocol". */
import { PROTOCOLS } from '../schemas/plugin.js';

const KONG_PROTOCOLS: ReadonlySet<string> = new Set(PROTOCOLS);

/** An error message for a protocol outside `supported`, or null when it is supported. */
export function checkProtocol(protocol: string, supported: readonly string[]): string | null {
  if (supported.includes(protocol)) return null;
  if (KONG_PROTOCOLS.has(protocol)) {
    return `protocol '${protocol}' is not supported by Portcullis (supported: ${supported.join(', ')})`;
  }
  return `must be one of ${supported.join(', ')}`;
}
