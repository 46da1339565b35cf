// The tutorial's three `deck gateway apply` steps, as decK files the quickstart writes and then
// applies the way `portcullis apply FILE` does. Only the upstream differs from the tutorial: the
// built-in echo server stands in for httpbin.konghq.com. The issuer stays a decK template, so the
// files also work with `DECK_ISSUER` pointing at a real Keycloak.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One step of the tutorial: its file name and decK text. */
export interface TutorialStep {
  readonly file: string;
  readonly title: string;
  readonly text: string;
}

/** The variable the tutorial's openid-connect step reads its issuer from. */
export const issuerVariable = 'DECK_ISSUER';

/** The quickstart's DPoP route, next to the tutorial's mTLS one. */
export const dpopRouteName = 'dpop-route';
export const dpopPath = '/dpop';

/** The tutorial's steps, in the order they must be applied (openid-connect's PoP check needs the certificate plugin first). */
export function tutorialSteps(upstreamUrl: string): TutorialStep[] {
  return [
    {
      file: '1-required-entities.yaml',
      title: 'Required entities',
      text: `# Kong tutorial "Configure OpenID Connect with cert-bound access tokens", required entities
# (the built-in echo upstream in place of http://httpbin.konghq.com/anything)
_format_version: "3.0"
services:
  - name: example-service
    url: ${upstreamUrl}
routes:
  - name: example-route
    paths:
      - "/anything"
    service:
      name: example-service
`,
    },
    {
      file: '2-tls-handshake-modifier.yaml',
      title: 'Enable TLS handshake plugin',
      text: `# Kong tutorial, "Enable TLS handshake plugin": ask clients for their certificate
_format_version: "3.0"
plugins:
  - name: tls-handshake-modifier
    route: example-route
    config:
      tls_client_certificate: REQUEST
`,
    },
    {
      file: '3-openid-connect.yaml',
      title: 'Enable the OpenID Connect plugin',
      text: `# Kong tutorial, "Enable the OpenID Connect plugin": certificate-bound tokens only
_format_version: "3.0"
plugins:
  - name: openid-connect
    route: example-route
    config:
      issuer: "\${{ env "${issuerVariable}" }}"
      auth_methods:
        - bearer
      proof_of_possession_mtls: strict
      proof_of_possession_auth_methods_validation: true
`,
    },
    {
      file: '4-dpop-route.yaml',
      title: 'Beyond the tutorial: a DPoP route',
      text: `# Beyond the tutorial: the same service behind a route that takes DPoP-bound tokens (RFC 9449)
_format_version: "3.0"
routes:
  - name: ${dpopRouteName}
    paths:
      - "${dpopPath}"
    service:
      name: example-service
plugins:
  - name: openid-connect
    route: ${dpopRouteName}
    config:
      issuer: "\${{ env "${issuerVariable}" }}"
      auth_methods:
        - bearer
      proof_of_possession_dpop: strict
      proof_of_possession_auth_methods_validation: true
  # RFC 9728: /.well-known/oauth-protected-resource${dpopPath} tells clients the issuer and that tokens must be DPoP-bound
  - name: protected-resource-metadata
    route: ${dpopRouteName}
`,
    },
  ];
}

/** Writes the steps into `dir` (replacing earlier ones: the upstream's port may have changed); returns their paths in order. */
export async function writeTutorialSteps(dir: string, steps: readonly TutorialStep[]): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const step of steps) {
    const path = join(dir, step.file);
    await writeFile(path, step.text);
    paths.push(path);
  }
  return paths;
}
