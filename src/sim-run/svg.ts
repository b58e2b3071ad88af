/** Small self-contained SVG charts for the report (no script, no external file: the page works offline). */

export interface Series {
  name: string;
  color: string;
  points: Array<{ x: number; y: number; low?: number; high?: number }>;
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const W = 720;
const H = 320;
const PAD = { left: 60, right: 170, top: 20, bottom: 44 };

const ticks = (lo: number, hi: number, n = 5): number[] => {
  const step = (hi - lo) / n;
  return Array.from({ length: n + 1 }, (_, i) => lo + i * step);
};

/** Lines (with a shaded 95% band when points have low/high) against a shared x axis. */
export const lineChart = (
  series: Series[],
  opts: { xLabel: string; yLabel: string; yFormat: (y: number) => string },
): string => {
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.flatMap((p) => [p.low ?? p.y, p.high ?? p.y]));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1raw] = [Math.min(0, ...ys), Math.max(...ys)];
  const y1 = y1raw === y0 ? y0 + 1 : y1raw * 1.05;
  const px = (x: number) => PAD.left + ((x - x0) / (x1 - x0 || 1)) * (W - PAD.left - PAD.right);
  const py = (y: number) => H - PAD.bottom - ((y - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);
  const parts: string[] = [];
  for (const t of ticks(y0, y1)) {
    parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${py(t)}" y2="${py(t)}" stroke="#e5e5e5"/>`);
    parts.push(
      `<text x="${PAD.left - 6}" y="${py(t) + 4}" text-anchor="end" font-size="11">${esc(opts.yFormat(t))}</text>`,
    );
  }
  for (const t of ticks(x0, x1)) {
    parts.push(
      `<text x="${px(t)}" y="${H - PAD.bottom + 16}" text-anchor="middle" font-size="11">${Math.round(t)}</text>`,
    );
  }
  series.forEach((s, i) => {
    const band = s.points.filter((p) => p.low !== undefined && p.high !== undefined);
    if (band.length > 1) {
      const top = band.map((p) => `${px(p.x)},${py(p.high as number)}`);
      const bottom = band.map((p) => `${px(p.x)},${py(p.low as number)}`).reverse();
      parts.push(`<polygon points="${[...top, ...bottom].join(' ')}" fill="${s.color}" opacity="0.12"/>`);
    }
    parts.push(
      `<polyline points="${s.points.map((p) => `${px(p.x)},${py(p.y)}`).join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"/>`,
    );
    const ly = PAD.top + 16 + i * 18;
    parts.push(
      `<line x1="${W - PAD.right + 12}" x2="${W - PAD.right + 32}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="3"/>`,
    );
    parts.push(`<text x="${W - PAD.right + 38}" y="${ly}" font-size="12">${esc(s.name)}</text>`);
  });
  parts.push(
    `<text x="${(PAD.left + W - PAD.right) / 2}" y="${H - 8}" text-anchor="middle" font-size="12">${esc(opts.xLabel)}</text>`,
  );
  parts.push(
    `<text x="14" y="${(PAD.top + H - PAD.bottom) / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 14 ${(PAD.top + H - PAD.bottom) / 2})">${esc(opts.yLabel)}</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif">${parts.join('')}</svg>`;
};

/** Horizontal bars with 95% interval whiskers, around a zero line. */
export const barChart = (
  bars: Array<{ name: string; color: string; value: number; low: number; high: number }>,
  opts: { xLabel: string; format: (x: number) => string },
): string => {
  const h = 40 + bars.length * 34;
  const lo = Math.min(0, ...bars.map((b) => b.low));
  const hi = Math.max(0, ...bars.map((b) => b.high));
  const left = 190;
  const right = 80;
  const px = (x: number) => left + ((x - lo) / (hi - lo || 1)) * (W - left - right);
  const parts: string[] = [];
  parts.push(`<line x1="${px(0)}" x2="${px(0)}" y1="10" y2="${h - 30}" stroke="#999"/>`);
  bars.forEach((b, i) => {
    const y = 16 + i * 34;
    const [a, c] = [px(Math.min(0, b.value)), px(Math.max(0, b.value))];
    parts.push(`<text x="${left - 8}" y="${y + 15}" text-anchor="end" font-size="12">${esc(b.name)}</text>`);
    parts.push(
      `<rect x="${a}" y="${y}" width="${Math.max(1, c - a)}" height="20" fill="${b.color}" opacity="0.8"/>`,
    );
    parts.push(
      `<line x1="${px(b.low)}" x2="${px(b.high)}" y1="${y + 10}" y2="${y + 10}" stroke="#222" stroke-width="1.5"/>`,
    );
    for (const e of [b.low, b.high])
      parts.push(
        `<line x1="${px(e)}" x2="${px(e)}" y1="${y + 4}" y2="${y + 16}" stroke="#222" stroke-width="1.5"/>`,
      );
    parts.push(
      `<text x="${px(Math.max(b.high, 0)) + 6}" y="${y + 15}" font-size="11">${esc(opts.format(b.value))}</text>`,
    );
  });
  parts.push(
    `<text x="${(left + W - right) / 2}" y="${h - 8}" text-anchor="middle" font-size="12">${esc(opts.xLabel)}</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" font-family="sans-serif">${parts.join('')}</svg>`;
};

export { esc };
