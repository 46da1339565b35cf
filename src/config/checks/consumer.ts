/** Consumer rules: an identity to be found by, and no credential lists Portcullis cannot use yet. */
import type { ErrorList } from '../errors.js';
import { joinPath } from '../paths.js';
import type { ConsumerDraft } from '../collect.js';
import { UNSUPPORTED_CONSUMER_FIELDS } from '../schemas/consumer.js';
import { isUnsupportedContent } from './document.js';

/** Adds the errors of one consumer. */
export function checkConsumer(consumer: ConsumerDraft, errors: ErrorList): void {
  const { raw, path } = consumer;
  if (raw.username === undefined && raw.custom_id === undefined) {
    errors.add(path, "at least one of these fields must be non-empty: 'custom_id', 'username'");
  }
  for (const field of UNSUPPORTED_CONSUMER_FIELDS) {
    if (isUnsupportedContent(raw[field])) errors.add(joinPath(path, field), `${field} are not supported by Portcullis yet`);
  }
}
