/**
 * A V8 CPU profile (`node --cpu-prof`) drawn as a flame graph: each frame's width is the share of
 * samples in it and everything it called, callers below callees. Also the top functions by self
 * time, for the written reading. Output is SVG (rsvg-convert makes the PNG, see chart.ts).
 */
interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
  /** µs, V8's monotonic clock (CLOCK_MONOTONIC on Linux, as `process.hrtime`). */
  startTime?: number;
  endTime?: number;
  /** µs between consecutive samples, the first from `startTime`. */
  timeDeltas?: number[];
}

/** The samples taken between `fromUs` and `toUs` (CLOCK_MONOTONIC µs), e.g. one measured run without start-up. */
export function profileWindow(profile: CpuProfile, fromUs: number, toUs: number): CpuProfile {
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  let t = profile.startTime ?? 0;
  let last = fromUs;
  (profile.samples ?? []).forEach((id, i) => {
    t += profile.timeDeltas?.[i] ?? 0;
    if (t < fromUs || t > toUs) return;
    samples.push(id);
    timeDeltas.push(t - last);
    last = t;
  });
  // hitCount counts the whole profile: only the window's samples may count.
  return { nodes: profile.nodes.map((n) => ({ ...n, hitCount: 0 })), samples, timeDeltas, startTime: fromUs, endTime: toUs };
}

interface Frame {
  name: string;
  self: number;
  total: number;
  children: Frame[];
}

function frameName(frame: CallFrame): string {
  const fn = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  if (frame.url === '') return fn;
  // A package by its name (`jose/dist/webapi/…`), Portcullis's own files from the source tree (`src/…`).
  const path = frame.url.replace(/^file:\/\//, '');
  const file = path.includes('/node_modules/') ? path.replace(/^.*\/node_modules\//, '') : path.replace(/^.*\/dist\//, '');
  return `${fn} ${file}:${frame.lineNumber + 1}`;
}

function buildTree(profile: CpuProfile): Frame {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map<number, number>();
  for (const id of profile.samples ?? []) hits.set(id, (hits.get(id) ?? 0) + 1);
  const build = (node: ProfileNode): Frame => {
    const children = (node.children ?? []).map((id) => build(byId.get(id)!)).filter((f) => f.total > 0);
    const self = hits.get(node.id) ?? node.hitCount ?? 0;
    return { name: frameName(node.callFrame), self, total: self + children.reduce((n, c) => n + c.total, 0), children };
  };
  return build(profile.nodes[0]!);
}

/** Functions by self samples, descending, as [name, share of all samples]. */
export function topSelf(profile: CpuProfile, count: number): Array<[string, number]> {
  const root = buildTree(profile);
  const totals = new Map<string, number>();
  const walk = (f: Frame): void => {
    totals.set(f.name, (totals.get(f.name) ?? 0) + f.self);
    f.children.forEach(walk);
  };
  walk(root);
  return [...totals].sort((a, b) => b[1] - a[1]).slice(0, count).map(([n, v]) => [n, v / root.total]);
}

/** Share of all samples spent in frames (and their callees) whose name matches. */
export function inclusiveShare(profile: CpuProfile, pattern: RegExp): number {
  const root = buildTree(profile);
  let sum = 0;
  const walk = (f: Frame): void => {
    if (pattern.test(f.name)) {
      sum += f.total;
      return;
    }
    f.children.forEach(walk);
  };
  walk(root);
  return sum / root.total;
}

/**
 * Share of all samples spent in frames (and their callees) whose name matches `child` and whose
 * direct caller matches `parent`: one call site's cost, e.g. the hashing a given function does.
 */
export function childShare(profile: CpuProfile, parent: RegExp, child: RegExp): number {
  const root = buildTree(profile);
  let sum = 0;
  const walk = (f: Frame): void => {
    for (const c of f.children) {
      if (parent.test(f.name) && child.test(c.name)) sum += c.total;
      else walk(c);
    }
  };
  walk(root);
  return sum / root.total;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function color(name: string): string {
  if (name.startsWith('(garbage collector)')) return '#c8c8c8';
  if (name.startsWith('(idle)') || name.startsWith('(program)')) return '#e0e0e0';
  if (/ src\/|bench\//.test(name)) return '#f2a541';
  if (/^[^ ]+ (undici|pino|jose)/.test(name)) return '#8fbc5a';
  if (/ node:/.test(name)) return '#6fa8dc';
  return '#e8744f';
}

const MAX_DEPTH = 48;

export function flameGraphSvg(profile: CpuProfile, title: string): string {
  const root = buildTree(profile);
  const width = 1600;
  const rowHeight = 16;
  let depthMax = 0;
  const rects: Array<{ x: number; depth: number; w: number; name: string; pct: string }> = [];
  const place = (f: Frame, x: number, depth: number): void => {
    const w = (width * f.total) / root.total;
    // Narrow frames are unreadable, and start-up recursion (module loading) would make the image
    // thousands of pixels tall: the request path fits well within the depth limit.
    if (w < 0.3 || depth > MAX_DEPTH) return;
    depthMax = Math.max(depthMax, depth);
    rects.push({ x, depth, w, name: f.name, pct: ((100 * f.total) / root.total).toFixed(1) });
    let cx = x;
    for (const child of [...f.children].sort((a, b) => a.name.localeCompare(b.name))) {
      place(child, cx, depth + 1);
      cx += (width * child.total) / root.total;
    }
  };
  place(root, 0, 0);
  const height = (depthMax + 1) * rowHeight + 40;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans Mono, monospace" font-size="10">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="18" font-size="14" font-family="DejaVu Sans, sans-serif">${escape(title)}</text>`,
  ];
  // Names are kept apart from the numbers: a frame's name may hold any character (a RegExp's source).
  for (const { x: xExact, depth, w: wExact, name, pct } of rects) {
    const x = Number(xExact.toFixed(2));
    const y = height - (depth + 1) * rowHeight;
    const w = Number(wExact.toFixed(2));
    const label = w > 40 ? escape(`${name} (${pct}%)`.slice(0, Math.floor(w / 6))) : '';
    parts.push(`<g><title>${escape(name)} ${pct}%</title><rect x="${x}" y="${y}" width="${w}" height="${rowHeight - 1}" fill="${color(name)}" stroke="white" stroke-width="0.3"/>${label === '' ? '' : `<text x="${x + 2}" y="${y + 11}">${label}</text>`}</g>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}
