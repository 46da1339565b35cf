/**
 * Kong's transform_headers on the headers sent upstream (lower-case names, so a rename that only
 * changes case changes nothing on the wire). Host is not among the values: remove, rename and add
 * never touch it; replace (and append) set the upstream Host header, as Kong's set_headers does.
 */
import type { HeaderMap } from '../../pipeline/context.js';
import { appendValue } from './params.js';
import { renderTemplate, type TemplateInput } from './template.js';
import type { Operations } from './transform.js';

const HOST = 'host';

export function transformHeaders(headers: HeaderMap, ops: Operations, input: TemplateInput): void {
  const has = (name: string): boolean => name !== HOST && headers[name] !== undefined;
  for (const entry of ops.remove) {
    const name = entry.name.toLowerCase();
    if (has(name)) delete headers[name];
  }
  for (const entry of ops.rename) {
    const from = entry.name.toLowerCase();
    const to = entry.value === null ? null : renderTemplate(entry.value, input).toLowerCase();
    if (to === null || to === from || !has(from)) continue;
    headers[to] = headers[from]!;
    delete headers[from];
  }
  for (const entry of ops.replace) {
    const name = entry.name.toLowerCase();
    if (entry.value === null || !(has(name) || name === HOST)) continue;
    headers[name] = renderTemplate(entry.value, input);
  }
  for (const entry of ops.add) {
    const name = entry.name.toLowerCase();
    if (entry.value === null || name === HOST || has(name)) continue;
    headers[name] = renderTemplate(entry.value, input);
  }
  for (const entry of ops.append) {
    const name = entry.name.toLowerCase();
    if (entry.value === null) continue;
    const value = renderTemplate(entry.value, input);
    // Kong's header table has no Host in it: appending to Host sets it.
    headers[name] = name === HOST ? value : (appendValue(headers[name], value) as string[]);
  }
}
