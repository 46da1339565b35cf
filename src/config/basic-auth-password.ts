/**
 * Kong's stored form of a basic-auth password (kong/plugins/basic-auth/crypto.lua): the lowercase
 * hex SHA-1 of the password followed by the consumer's id. Kong hashes on every write and shows the
 * hash on every read, so a decK dump holds hashes, and syncing that dump back hashed them a second
 * time (Kong/deck#145): every password stopped working.
 *
 * The rule here, the same for a file, the admin API and a stored configuration: a value of exactly
 * 40 lowercase hex characters IS the stored form and is kept as written; any other value is a
 * password and is hashed. So a dump (Portcullis's or Kong's, whose hashes are salted with the same
 * consumer ids) loads back unchanged, and a plaintext password never outlives the load. The price:
 * a password that is itself 40 lowercase hex characters cannot be given in clear (it would be taken
 * as a hash); give its hash instead, or another password.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const STORED_FORM = /^[0-9a-f]{40}$/;

/** Kong's hash of `password` for the consumer `consumerId`. */
export function hashBasicAuthPassword(consumerId: string, password: string): string {
  return createHash('sha1').update(password + consumerId, 'utf8').digest('hex');
}

/** Whether a written password is already Kong's stored form. */
export function isStoredPasswordForm(value: string): boolean {
  return STORED_FORM.test(value);
}

/** The stored form of a written password: kept when it is one already, hashed otherwise. */
export function storedPassword(consumerId: string, written: string): string {
  return isStoredPasswordForm(written) ? written : hashBasicAuthPassword(consumerId, written);
}

/** Whether `presented` is the password whose stored form is `stored`, in constant time. */
export function passwordMatches(consumerId: string, stored: string, presented: string): boolean {
  const expected = Buffer.from(stored, 'utf8');
  const actual = Buffer.from(hashBasicAuthPassword(consumerId, presented), 'utf8');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
