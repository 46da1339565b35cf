/**
 * The ratio chart: one horizontal bar per comparison (Portcullis ÷ a reference program, same
 * scenario, same run), a line at 1.0 and a tick at each target. Drawn as SVG and turned into PNG by
 * rsvg-convert (Debian's librsvg2-bin), so no graphics library enters the project.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';

export interface Bar {
  readonly label: string;
  readonly ratio: number;
  readonly target?: number;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function ratioChartSvg(title: string, subtitle: string, bars: readonly Bar[]): string {
  const left = 430;
  const width = 980;
  const plot = width - left - 40;
  const rowHeight = 30;
  const top = 70;
  const height = top + bars.length * rowHeight + 50;
  const maxRatio = Math.max(2, ...bars.map((b) => (Number.isFinite(b.ratio) ? b.ratio : 0)), ...bars.map((b) => b.target ?? 0));
  const x = (r: number): number => left + (plot * r) / maxRatio;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="20" y="28" font-size="18" font-weight="bold">${escape(title)}</text>`,
    `<text x="20" y="50" font-size="12" fill="#444">${escape(subtitle)}</text>`,
  ];
  for (let tick = 0; tick <= maxRatio + 1e-9; tick += 0.5) {
    parts.push(`<line x1="${x(tick)}" y1="${top - 6}" x2="${x(tick)}" y2="${height - 40}" stroke="${tick === 1 ? '#333' : '#ddd'}" stroke-width="${tick === 1 ? 1.5 : 1}"/>`);
    parts.push(`<text x="${x(tick)}" y="${height - 24}" font-size="11" text-anchor="middle">${tick.toFixed(1)}×</text>`);
  }
  bars.forEach((bar, i) => {
    const y = top + i * rowHeight;
    const ok = bar.target === undefined || bar.ratio >= bar.target;
    const ratio = Number.isFinite(bar.ratio) ? bar.ratio : 0;
    parts.push(`<text x="${left - 10}" y="${y + 15}" font-size="12" text-anchor="end">${escape(bar.label)}</text>`);
    parts.push(`<rect x="${left}" y="${y + 3}" width="${Math.max(1, x(ratio) - left)}" height="${rowHeight - 10}" fill="${ok ? '#2f7ed8' : '#d9534f'}"/>`);
    parts.push(`<text x="${x(ratio) + 5}" y="${y + 15}" font-size="11">${ratio.toFixed(2)}×</text>`);
    if (bar.target !== undefined) {
      parts.push(`<line x1="${x(bar.target)}" y1="${y}" x2="${x(bar.target)}" y2="${y + rowHeight - 4}" stroke="#000" stroke-width="2" stroke-dasharray="3,2"/>`);
    }
  });
  parts.push(`<text x="${left}" y="${height - 6}" font-size="11" fill="#444">bars: Portcullis req/s ÷ the reference's req/s; dashed tick: target; red: below target</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

/** Writes `svg` and its PNG rendering (when rsvg-convert is present); returns the PNG path or null. */
export async function writeChart(svgPath: string, pngPath: string, svg: string): Promise<string | null> {
  await writeFile(svgPath, svg);
  try {
    execFileSync('rsvg-convert', ['-f', 'png', '-o', pngPath, svgPath]);
    return pngPath;
  } catch (error) {
    console.error(`bench: no PNG chart (rsvg-convert: ${String(error)})`);
    return null;
  }
}
