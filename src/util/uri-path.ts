/**
 * Request-path normalisation before routing, and escaping of the path sent upstream, ported from
 * Kong's `kong/tools/uri.lua` (`normalize(uri, merge_slashes=true)` and `escape`), which the
 * router applies to every request path before matching (`kong/router/utils.lua` `strip_uri_args`)
 * and the runloop applies to the upstream URI (`kong/runloop/handler.lua`: `escape(upstream_uri)`).
 * Kong's docs (developer.konghq.com /gateway/routing/traditional/ "Path normalization") list the
 * same four steps: upper-case percent triplets, decode unreserved ones, remove dot segments, merge
 * duplicate slashes. Routing on the normalised path is what stops `/anything/../admin` from
 * matching a route on `/anything`.
 */

const SLASH = 0x2f;
const DOT = 0x2e;

/** RFC 3986 reserved characters plus `%`: Kong keeps these percent-encoded (upper-cased). */
const RESERVED = new Uint8Array(128);
for (const ch of "!*'();:@&=+$,/?%#[]") RESERVED[ch.charCodeAt(0)] = 1;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** The byte encoded by the `%XX` triplet starting at `at`, or -1 when it is not one. */
function tripletAt(s: string, at: number): number {
  if (at + 2 >= s.length || s.charCodeAt(at) !== 0x25) return -1;
  const hi = hexValue(s.charCodeAt(at + 1));
  const lo = hexValue(s.charCodeAt(at + 2));
  return hi < 0 || lo < 0 ? -1 : (hi << 4) | lo;
}

function encodeByte(byte: number): string {
  return '%' + byte.toString(16).toUpperCase().padStart(2, '0');
}

/**
 * Kong decodes every triplet that is not a reserved character ("we should unescape unreserved and
 * choose to unescape others") and upper-cases the rest. Kong works on bytes; we work on UTF-16, so
 * a run of non-ASCII triplets is decoded as UTF-8, and left encoded (upper-cased) when it is not
 * valid UTF-8. Either way the escaped upstream path comes out as Kong's would.
 */
function decodeTriplets(s: string): string {
  let out = '';
  let last = 0;
  let i = s.indexOf('%');
  while (i !== -1) {
    const byte = tripletAt(s, i);
    if (byte < 0) {
      i = s.indexOf('%', i + 1);
      continue;
    }
    out += s.slice(last, i);
    if (byte < 0x80) {
      out += RESERVED[byte] === 1 ? encodeByte(byte) : String.fromCharCode(byte);
      i += 3;
    } else {
      const bytes: number[] = [];
      let next: number;
      while ((next = tripletAt(s, i)) >= 0x80) {
        bytes.push(next);
        i += 3;
      }
      try {
        out += utf8.decode(Uint8Array.from(bytes));
      } catch {
        out += bytes.map(encodeByte).join('');
      }
    }
    last = i;
    i = s.indexOf('%', i);
  }
  return out + s.slice(last);
}

/** Kong's RFC 3986 §5.2.4 loop, with `//` merged; segments keep their leading slash. */
function removeDotSegments(s: string): string {
  const out: string[] = [];
  const n = s.length;
  let i = 0;
  while (i < n) {
    const rest = n - i;
    const c1 = s.charCodeAt(i);
    const c2 = rest > 1 ? s.charCodeAt(i + 1) : 0;
    const c3 = rest > 2 ? s.charCodeAt(i + 2) : 0;
    const c4 = rest > 3 ? s.charCodeAt(i + 3) : 0;
    if (c1 === SLASH && c2 === DOT && rest === 2) {
      out.push('/'); // "/." → "/"
      break;
    }
    if (c1 === SLASH && c2 === DOT && c3 === DOT && rest === 3) {
      out.pop(); // "/.." → "/" and drop the previous segment
      out.push('/');
      break;
    }
    if (c1 === DOT && (rest === 1 || (rest === 2 && c2 === DOT))) break; // "." or ".."
    if (c1 === DOT && c2 === DOT && c3 === SLASH) i += 3; // "../"
    else if (c1 === DOT && c2 === SLASH) i += 2; // "./"
    else if (c1 === SLASH && c2 === DOT && c3 === SLASH) i += 2; // "/./"
    else if (c1 === SLASH && c2 === DOT && c3 === DOT && c4 === SLASH) {
      i += 3; // "/../"
      out.pop();
    } else if (c1 === SLASH && c2 === SLASH) i += 1; // "//"
    else {
      const end = s.indexOf('/', i + 1);
      if (end === -1) {
        out.push(s.slice(i));
        break;
      }
      out.push(s.slice(i, end));
      i = end;
    }
  }
  return out.join('');
}

/** The path as Kong's router sees it: triplets decoded or upper-cased, dot segments removed, `//` merged. */
export function normalizePath(path: string): string {
  if (path === '' || path === '/') return path;
  const decoded = path.includes('%') ? decodeTriplets(path) : path;
  if (!decoded.includes('.') && !decoded.includes('//')) return decoded;
  return removeDotSegments(decoded);
}

/** Characters Kong's `escape` leaves as they are (its ESCAPE_PATTERN, case-insensitive); `%` included. */
const UNSAFE = /[^!#$&'()*+,/:;=?@[\]A-Za-z0-9\-_.~%]/;
const UNSAFE_ALL = /[^!#$&'()*+,/:;=?@[\]A-Za-z0-9\-_.~%]/gu;

/** Percent-encodes (as UTF-8) every character that may not appear raw in a request line. */
export function escapePath(path: string): string {
  if (!UNSAFE.test(path)) return path;
  return path.replace(UNSAFE_ALL, (ch) => {
    let out = '';
    for (const byte of Buffer.from(ch, 'utf8')) out += encodeByte(byte);
    return out;
  });
}
