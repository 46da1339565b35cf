/**
 * A DPoP-bound access token from the test IdP's token endpoint, got as a real client gets one:
 * oauth4webapi's client credentials grant (client_secret_basic) with its DPoP handle, so the IdP's
 * own DPoP checks run and the gateway is not checked against tokens it could have made itself.
 */
import * as oauth from 'oauth4webapi';
import { Agent, fetch as undiciFetch } from 'undici';
import { devClientSecret, type TestIdp } from './idp.js';

export async function dpopAccessToken(idp: TestIdp, clientId: string, keyPair: oauth.CryptoKeyPair): Promise<{ access_token: string; token_type: string }> {
  const agent = new Agent({ connect: { ca: idp.caPem } });
  const custom = ((url: string, init: RequestInit) => undiciFetch(url, { ...(init as object), dispatcher: agent })) as unknown as typeof fetch;
  try {
    const issuer = new URL(idp.issuer);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { [oauth.customFetch]: custom }));
    const client: oauth.Client = { client_id: clientId };
    const DPoP = oauth.DPoP(client, keyPair);
    const grant = () => oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(devClientSecret), new URLSearchParams(), { DPoP, [oauth.customFetch]: custom });
    let result: oauth.TokenEndpointResponse;
    try {
      result = await oauth.processClientCredentialsResponse(as, client, await grant());
    } catch (error) {
      // An IdP that wants its nonce says so first; oauth4webapi's handle keeps it for the retry.
      if (!oauth.isDPoPNonceError(error)) throw error;
      result = await oauth.processClientCredentialsResponse(as, client, await grant());
    }
    return { access_token: result.access_token, token_type: result.token_type };
  } finally {
    await agent.close();
  }
}
