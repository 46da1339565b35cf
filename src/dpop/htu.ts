/**
 * The `htu` comparison of RFC 9449 §4.3: the proof's URI and the request's target URI, both
 * without query and fragment, normalised alike (see `pipeline/client-url.ts`).
 */
import type { GatewayRequest } from '../pipeline/context.js';
import { clientFacingUrl, normaliseHttpUri } from '../pipeline/client-url.js';

/** The normalised form of a proof's `htu`, or null when it is not an http(s) URI (or carries userinfo). */
export const normaliseHtu: (uri: string) => string | null = normaliseHttpUri;

/** The URI the client used for this request, as an `htu` is compared with; null when none results. */
export function requestHtu(request: GatewayRequest): string | null {
  return clientFacingUrl(request, request.path);
}
