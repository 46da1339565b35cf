/** Credential rules the schema cannot say: Kong fields accepted in the file but not implemented yet, a JWT key's fit to its algorithm. */
import type { CredentialDraft } from '../collect.js';
import type { ErrorList } from '../errors.js';
import { joinPath } from '../paths.js';
import { isUnsupportedContent } from './document.js';
import { checkJwtSecret } from './jwt-secret.js';

/** Adds the errors of one credential. */
export function checkCredential(credential: CredentialDraft, errors: ErrorList): void {
  // Kong's keyauth_credentials are ttl-enabled; an expiring key that never expired would be worse than a refusal.
  if (credential.kind === 'keyauth_credentials' && isUnsupportedContent(credential.raw.ttl)) {
    errors.add(joinPath(credential.path, 'ttl'), 'expiring keys (ttl) are not supported by Portcullis yet');
  }
  if (credential.kind === 'jwt_secrets') checkJwtSecret(credential, errors);
}
