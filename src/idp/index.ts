// The development identity provider: oidc-provider with Keycloak's paths, RFC 8705 mTLS client
// authentication and certificate-bound access tokens. For local runs of the Kong tutorial and the
// gateway's end-to-end tests; not for production.
export { startIdp, developmentNotice } from './server.js';
export { defaultIdpClients, devClientSecret, tutorialSubjectDn, loadIdpClientsFile } from './clients.js';
export { rotateSigningKeys, loadOrCreateSigningKeys, signingKeysFile } from './keys.js';
export { keycloakRoutes } from './provider.js';
export { ensureDevPki, type DevPki } from './dev-pki.js';
export { subjectDnMatches } from './subject-dn.js';
export type { IdpClientConfig, IdpClientAuthMethod, IdpSigningAlg, IdpServer, IdpEndpoints, IdpTlsOptions, StartIdpOptions } from './types.js';
