/**
 * Whether one compiled entry matches a request, attribute by attribute, as the expression Kong
 * builds for it in `kong/router/transform.lua` `get_expression`: every present attribute must
 * match (`&&`), any of its values may (`||`).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { ownHeader } from '../util/own-header.js';
import { execBounded, type RegexBudget } from './bounded-regex.js';
import type { HeaderRule, NamePattern, RouteEntry } from './compile-route.js';

function nameMatches(pattern: NamePattern, name: string): boolean {
  switch (pattern.kind) {
    case 'exact':
      return name === pattern.value;
    case 'suffix':
      return name.endsWith(pattern.value);
    case 'prefix':
      return name.startsWith(pattern.value);
  }
}

/** `http.host == h` / `=^` / `^=`, and `net.dst.port == p` for a host written with a port. */
export function hostsMatch(patterns: readonly NamePattern[], host: string, port: number | undefined): boolean {
  for (const pattern of patterns) {
    if (nameMatches(pattern, host) && (pattern.port === null || pattern.port === port)) return true;
  }
  return false;
}

/** `(net.protocol != "https" || tls.sni == …)`: SNIs only constrain https requests, which must send one. */
export function snisMatch(patterns: readonly NamePattern[], protocol: string, sni: string | null): boolean {
  if (protocol !== 'https') return true;
  if (sni === null) return false;
  const name = sni.toLowerCase();
  for (const pattern of patterns) if (nameMatches(pattern, name)) return true;
  return false;
}

function valueMatches(rule: HeaderRule, value: string, budget: RegexBudget | undefined): boolean {
  if (rule.values.has(value.toLowerCase())) return true;
  for (const regex of rule.regexes) if (execBounded(regex, value, budget) !== null) return true;
  return false;
}

/**
 * `any(lower(http.headers.name)) == lower(value)` for each header name. `any` walks the header's
 * values: Node gives an array only for headers it never joins (set-cookie); other repeated
 * headers arrive joined with ", " and are compared as one value.
 */
export function headersMatch(rules: readonly HeaderRule[], headers: IncomingHttpHeaders, budget?: RegexBudget): boolean {
  for (const rule of rules) {
    const value: unknown = ownHeader(headers, rule.name);
    if (typeof value === 'string') {
      if (!valueMatches(rule, value, budget)) return false;
    } else if (!Array.isArray(value) || !value.some((v) => typeof v === 'string' && valueMatches(rule, v, budget))) return false;
  }
  return true;
}

export interface EntryRequest {
  readonly protocol: string;
  readonly method: string;
  readonly host: string;
  readonly port?: number | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly sni: string | null;
}

/**
 * Every attribute except the path, which the caller has checked (prefix) or checks next (regex).
 * `checkHosts` false: the caller found the entry by the request's host already. `budget`: the time
 * limit of backtracking header regexes (none: they run unbounded, for tests).
 */
export function attributesMatch(entry: RouteEntry, request: EntryRequest, checkHosts = true, budget?: RegexBudget): boolean {
  if (entry.methods !== null && !entry.methods.has(request.method)) return false;
  if (checkHosts && entry.hosts !== null && !hostsMatch(entry.hosts, request.host, request.port)) return false;
  if (entry.snis !== null && !snisMatch(entry.snis, request.protocol, request.sni)) return false;
  if (entry.headers !== null && !headersMatch(entry.headers, request.headers, budget)) return false;
  return true;
}

/**
 * The text the first matching regex path matched (Kong's `get_result("http.path")`), or null.
 * Throws `RegexBudgetExceeded` when a backtracking regex outlives `budget`.
 */
export function regexMatch(regexes: readonly RegExp[], path: string, budget?: RegexBudget): string | null {
  for (const regex of regexes) {
    const found = execBounded(regex, path, budget);
    if (found !== null) return found[0];
  }
  return null;
}
