// Certificate making for development and tests: CAs, intermediates, server and client leaves.
// Built on @peculiar/x509 over Node's WebCrypto; no OpenSSL process, no hand-rolled crypto.
export { createCertificateAuthority, loadCertificateAuthority } from './authority.js';
export type { CreateCertificateAuthorityOptions, LoadCertificateAuthorityOptions } from './authority.js';
export { issueCertificate, createSelfSignedCertificate } from './issue.js';
export type { IssueCertificateOptions, CreateSelfSignedCertificateOptions } from './issue.js';
export type { Usage } from './extensions.js';
export { keyTypes, importPrivateKeyPem } from './keys.js';
export type { KeyType } from './keys.js';
export { pemToDer, derToPem, splitPem, certificateThumbprint } from './pem.js';
export type { KeyAndCert, CertificateAuthority, IssuedCertificate } from './types.js';
