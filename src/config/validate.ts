/**
 * Every check the loader makes, in one pass that reports everything it finds: the document schema,
 * top-level rules, each entity's own rules, plugin configs against their schemas, references, scopes
 * and uniqueness. The later steps read defensively, so they still run when the schema step found
 * problems: a user fixing a file sees all its faults at once, not one layer at a time.
 */
import { convertAjvErrors } from './ajv-errors.js';
import { compileSchema } from './ajv.js';
import { checkCaCertificate, checkCertificate } from './checks/certificates.js';
import { checkConsumer } from './checks/consumer.js';
import { checkCredential } from './checks/credential.js';
import { CREDENTIAL_KEYS } from './credential-kinds.js';
import { checkDocument } from './checks/document.js';
import { checkRoute } from './checks/route.js';
import { checkService } from './checks/service.js';
import { checkTarget, checkUpstream } from './checks/upstream.js';
import { collectEntities, type Drafts } from './collect.js';
import { ErrorList, sortErrorsByLocation } from './errors.js';
import { applyYamlLeniency } from './leniency.js';
import { MAX_NESTING_DEPTH } from './parse.js';
import { isRecord, joinPath } from './paths.js';
import { checkPlugins, type PluginCatalog } from './plugin-config.js';
import { resolveReferences } from './resolve.js';
import { DocumentSchema } from './schemas/document.js';
import type { ConfigError } from './types.js';
import { checkUniqueness } from './uniqueness.js';

const validateDocumentSchema = compileSchema(DocumentSchema);

export type ValidationResult = { ok: true; drafts: Drafts } | { ok: false; errors: ConfigError[] };

/** A private deep copy: validation writes defaults into the data, and the caller's object is not ours. */
function copyOf(input: unknown): unknown {
  try {
    return structuredClone(input);
  } catch {
    return undefined;
  }
}

/**
 * Keys to the first list or object nested deeper than MAX_NESTING_DEPTH, or null. The limit text
 * has (parse.ts) holds for objects too, so that what loads here also loads from its own YAML export,
 * and so that the recursive steps after it (copying, freezing, hashing) stay far from the stack
 * limit. This walk itself recurses at most MAX_NESTING_DEPTH + 1 levels.
 */
function tooDeepAt(value: unknown, depth = 1): Array<string | number> | null {
  if (typeof value !== 'object' || value === null) return null;
  if (depth > MAX_NESTING_DEPTH) return [];
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const at = tooDeepAt(value[i], depth + 1);
      if (at !== null) return [i, ...at];
    }
    return null;
  }
  for (const key of Object.keys(value)) {
    const at = tooDeepAt((value as Record<string, unknown>)[key], depth + 1);
    if (at !== null) return [key, ...at];
  }
  return null;
}

/** Validates a parsed document; on success the drafts hold the defaulted entities with their ids. */
export function validateDocument(input: unknown, catalog: PluginCatalog, now: Date): ValidationResult {
  const deep = tooDeepAt(input);
  if (deep !== null) return { ok: false, errors: [{ path: deep.reduce<string>(joinPath, ''), message: `nested more than ${MAX_NESTING_DEPTH} levels deep` }] };
  const doc = copyOf(input);
  if (!isRecord(doc)) {
    const what = input === null ? 'null' : Array.isArray(input) ? 'a list' : typeof input;
    return { ok: false, errors: [{ path: '', message: `the configuration must be a mapping of sections, found ${what}` }] };
  }
  const sections = Object.keys(doc);
  const errors = new ErrorList();
  // What routes say before defaults fill them in: Kong's gRPC routes have a different strip_path default.
  const writtenStripPaths = new Map(collectEntities(doc).routes.map((r) => [r.path, r.raw['strip_path']]));
  applyYamlLeniency(DocumentSchema, doc);
  if (!validateDocumentSchema(doc)) errors.addAll(convertAjvErrors(validateDocumentSchema.errors ?? [], '', doc));
  checkDocument(doc, errors);

  const drafts = collectEntities(doc);
  for (const route of drafts.routes) route.writtenStripPath = writtenStripPaths.get(route.path);
  for (const service of drafts.services) checkService(service, errors);
  for (const route of drafts.routes) checkRoute(route, errors);
  for (const consumer of drafts.consumers) checkConsumer(consumer, errors);
  for (const ca of drafts.caCertificates) checkCaCertificate(ca, errors, now);
  for (const certificate of drafts.certificates) checkCertificate(certificate, errors);
  for (const upstream of drafts.upstreams) checkUpstream(upstream, errors);
  for (const target of drafts.targets) checkTarget(target, errors);
  for (const key of CREDENTIAL_KEYS) for (const credential of drafts.credentials[key]) checkCredential(credential, errors);
  resolveReferences(drafts, errors);
  checkPlugins(drafts, catalog, errors);
  checkUniqueness(drafts, errors);
  return errors.size > 0 ? { ok: false, errors: sortErrorsByLocation(errors.toArray(), sections) } : { ok: true, drafts };
}
