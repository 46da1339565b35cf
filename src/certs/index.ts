// Certificate making for development and tests: CAs, intermediates, server and client leaves.
// Built on @peculiar/x509 over Node's WebCrypto; no OpenSSL process, no hand-rolled crypto.
// PKCS#12 (`createPkcs12`) lives in './pkcs12.js', imported directly, so that pkijs stays off the
// gateway's start-up path.
export { createCertificateAuthority, loadCertificateAuthority } from './authority.js';
export type { CreateCertificateAuthorityOptions, LoadCertificateAuthorityOptions } from './authority.js';
export { issueCertificate, createSelfSignedCertificate } from './issue.js';
export type { IssueCertificateOptions, CreateSelfSignedCertificateOptions } from './issue.js';
export type { Usage } from './extensions.js';
export { keyTypes, importPrivateKeyPem } from './keys.js';
export type { KeyType } from './keys.js';
export { pemToDer, derToPem, splitPem, certificateThumbprint } from './pem.js';
export type { KeyAndCert, CertificateAuthority, IssuedCertificate } from './types.js';
export { escapeRdnValue } from './params.js';
export { describeCertificate, formatCertificateDescription, readCertificateFile } from './describe.js';
export type { CertificateDescription, CertificateFile } from './describe.js';
export {
  createDevelopmentPki,
  splitHostnames,
  tutorialClientSubject,
  developmentCaSubject,
  defaultServerHostnames,
} from './development-pki.js';
export type { CreateDevelopmentPkiOptions, DevelopmentPki } from './development-pki.js';
export { writeOutputFiles, findExistingFile, FileExistsError } from './write-files.js';
export type { OutputFile } from './write-files.js';
export { developmentPkiFileNames, developmentPkiPemFiles, ensureDevelopmentPki } from './development-pki-files.js';
export type { DevelopmentPkiPaths } from './development-pki-files.js';
