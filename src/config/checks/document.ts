/** Top-level rules: the format version, and decK sections Portcullis does not implement. */
import type { ErrorList } from '../errors.js';
import { isRecord } from '../paths.js';
import { FORMAT_VERSION, UNSUPPORTED_SECTIONS } from '../schemas/document.js';

/** A section of an unimplemented kind is fine when absent or empty, and refused otherwise. */
export function isUnsupportedContent(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(value)) return value.length > 0;
  return !isRecord(value) || Object.keys(value).length > 0;
}

/** Adds the errors of the document's top level. */
export function checkDocument(doc: Record<string, unknown>, errors: ErrorList): void {
  const version = doc._format_version;
  if (typeof version === 'number') {
    errors.add('_format_version', `must be the string "${FORMAT_VERSION}"; quote it: _format_version: "${FORMAT_VERSION}"`);
  } else if (version !== undefined && typeof version !== 'string') {
    errors.add('_format_version', `must be the string "${FORMAT_VERSION}"`);
  } else if (typeof version === 'string' && version !== FORMAT_VERSION) {
    if (version === '1.1' || version === '2.1') {
      errors.add(
        '_format_version',
        `format "${version}" (Kong 2.x) is not supported; convert the file with ` +
          '`deck file convert --from kong-gateway-2.x --to kong-gateway-3.x`',
      );
    } else {
      errors.add('_format_version', `must be "${FORMAT_VERSION}"`);
    }
  }
  for (const section of UNSUPPORTED_SECTIONS) {
    if (isUnsupportedContent(doc[section])) errors.add(section, `${section} are not supported by Portcullis yet`);
  }
}
