/**
 * JWK members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4; `priv` from
 * the AKP key type of the post-quantum JOSE drafts). One list, so the issuer keys of openid-connect,
 * DPoP proof keys and the CLI's public key export all draw the line in the same place.
 */
export const PRIVATE_JWK_MEMBERS: readonly string[] = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];

/** The first private member `jwk` carries as its own property, or undefined for a public key. */
export function privateJwkMember(jwk: object): string | undefined {
  return PRIVATE_JWK_MEMBERS.find((member) => Object.hasOwn(jwk, member));
}
