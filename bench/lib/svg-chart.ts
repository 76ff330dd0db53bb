// A small hand-written SVG chart for the benchmarks' figures (docs/figures/): one plot area with
// linear or log axes, grid lines and tick labels, and primitives to draw in data coordinates —
// points, lines, error bars, bars, text — plus a legend. No plotting library, as elsewhere here.

export type Scale = { readonly kind: 'linear' | 'log'; readonly min: number; readonly max: number };

export interface ChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly x: Scale;
  readonly y: Scale;
  readonly xTicks: readonly number[];
  readonly yTicks: readonly number[];
  readonly xTickLabel?: (v: number) => string;
  readonly yTickLabel?: (v: number) => string;
  readonly width?: number;
  readonly height?: number;
}

export const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#7f7f7f'] as const;

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function formatCount(v: number): string {
  return v >= 1000 ? v.toLocaleString('en-US') : String(v);
}

export class Chart {
  private readonly parts: string[] = [];
  private readonly legend: { label: string; color: string; dashed: boolean; marker: boolean; swatch: boolean }[] = [];
  readonly width: number;
  readonly height: number;
  private readonly left = 70;
  private readonly right = 190;
  private readonly top = 44;
  private readonly bottom = 54;

  constructor(private readonly o: ChartOptions) {
    this.width = o.width ?? 780;
    this.height = o.height ?? 440;
    const { left, top } = this;
    const plotRight = this.width - this.right;
    const plotBottom = this.height - this.bottom;
    this.parts.push(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${this.width}" height="${this.height}" font-family="sans-serif" font-size="12">`,
      `<rect width="${this.width}" height="${this.height}" fill="white"/>`,
      `<text x="${left}" y="24" font-size="14">${escape(o.title)}</text>`,
    );
    for (const v of o.xTicks) {
      const x = this.px(v);
      this.parts.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${plotBottom}" stroke="#e4e4e4"/><text x="${x}" y="${plotBottom + 16}" text-anchor="middle">${escape((o.xTickLabel ?? formatCount)(v))}</text>`);
    }
    for (const v of o.yTicks) {
      const y = this.py(v);
      this.parts.push(`<line x1="${left}" y1="${y}" x2="${plotRight}" y2="${y}" stroke="#e4e4e4"/><text x="${left - 6}" y="${y + 4}" text-anchor="end">${escape((o.yTickLabel ?? formatCount)(v))}</text>`);
    }
    this.parts.push(
      `<rect x="${left}" y="${top}" width="${plotRight - left}" height="${plotBottom - top}" fill="none" stroke="#999"/>`,
      `<text x="${(left + plotRight) / 2}" y="${this.height - 14}" text-anchor="middle">${escape(o.xLabel)}</text>`,
      `<text x="16" y="${(top + plotBottom) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(top + plotBottom) / 2})">${escape(o.yLabel)}</text>`,
    );
  }

  /** Data x to pixels (clamped to the axis). */
  px(v: number): number {
    return Number(this.map(v, this.o.x, this.left, this.width - this.right).toFixed(1));
  }

  /** Data y to pixels (clamped to the axis). */
  py(v: number): number {
    return Number(this.map(v, this.o.y, this.height - this.bottom, this.top).toFixed(1));
  }

  points(data: readonly (readonly [number, number])[], color: string, radius = 3, hollow = false): this {
    for (const [x, y] of data) this.parts.push(`<circle cx="${this.px(x)}" cy="${this.py(y)}" r="${radius}" fill="${hollow ? 'white' : color}" stroke="${color}" fill-opacity="${hollow ? 1 : 0.55}"/>`);
    return this;
  }

  line(data: readonly (readonly [number, number])[], color: string, o: { dashed?: boolean; width?: number } = {}): this {
    const pts = data.map(([x, y]) => `${this.px(x)},${this.py(y)}`).join(' ');
    this.parts.push(`<polyline fill="none" stroke="${color}" stroke-width="${o.width ?? 2}"${o.dashed === true ? ' stroke-dasharray="6 4"' : ''} points="${pts}"/>`);
    return this;
  }

  /** A vertical bar from `low` to `high` at x, with caps. */
  errorBar(x: number, low: number, high: number, color: string): this {
    const cx = this.px(x);
    const [y1, y2] = [this.py(low), this.py(high)];
    this.parts.push(`<line x1="${cx}" y1="${y1}" x2="${cx}" y2="${y2}" stroke="${color}"/><line x1="${cx - 5}" y1="${y1}" x2="${cx + 5}" y2="${y1}" stroke="${color}"/><line x1="${cx - 5}" y1="${y2}" x2="${cx + 5}" y2="${y2}" stroke="${color}"/>`);
    return this;
  }

  /** A band between two y values across the plot. */
  band(low: number, high: number, color: string): this {
    const [y1, y2] = [this.py(high), this.py(low)];
    this.parts.push(`<rect x="${this.left}" y="${y1}" width="${this.width - this.right - this.left}" height="${Math.max(0, y2 - y1)}" fill="${color}" fill-opacity="0.15"/>`);
    return this;
  }

  /** A bar `widthPx` wide centred at pixel `cx`, from the bottom of the axis up to y. */
  bar(cx: number, y: number, widthPx: number, color: string): this {
    const top = this.py(y);
    this.parts.push(`<rect x="${(cx - widthPx / 2).toFixed(1)}" y="${top}" width="${widthPx}" height="${Math.max(0, this.height - this.bottom - top).toFixed(1)}" fill="${color}"/>`);
    return this;
  }

  text(xPx: number, yPx: number, text: string, o: { anchor?: 'start' | 'middle' | 'end'; color?: string; size?: number; rotate?: number } = {}): this {
    const rotate = o.rotate === undefined ? '' : ` transform="rotate(${o.rotate} ${xPx} ${yPx})"`;
    this.parts.push(`<text x="${xPx}" y="${yPx}" text-anchor="${o.anchor ?? 'start'}" fill="${o.color ?? 'black'}"${o.size === undefined ? '' : ` font-size="${o.size}"`}${rotate}>${escape(text)}</text>`);
    return this;
  }

  /** A legend entry: a line (dashed or not), a point (`marker`) or a filled square (`swatch`, for bars and bands). */
  key(label: string, color: string, o: { dashed?: boolean; marker?: boolean; swatch?: boolean } = {}): this {
    this.legend.push({ label, color, dashed: o.dashed === true, marker: o.marker === true, swatch: o.swatch === true });
    return this;
  }

  /** The plot area's pixel bounds. */
  get area(): { left: number; right: number; top: number; bottom: number } {
    return { left: this.left, right: this.width - this.right, top: this.top, bottom: this.height - this.bottom };
  }

  toString(): string {
    const x = this.width - this.right + 12;
    const legend = this.legend.flatMap((k, i) => {
      const y = this.top + 10 + i * 20;
      const mark = k.swatch
        ? `<rect x="${x + 4}" y="${y - 6}" width="12" height="12" fill="${k.color}"/>`
        : k.marker
          ? `<circle cx="${x + 10}" cy="${y}" r="4" fill="${k.color}" fill-opacity="0.55" stroke="${k.color}"/>`
          : `<line x1="${x}" y1="${y}" x2="${x + 20}" y2="${y}" stroke="${k.color}" stroke-width="2"${k.dashed ? ' stroke-dasharray="6 4"' : ''}/>`;
      return [mark, `<text x="${x + 26}" y="${y + 4}">${escape(k.label)}</text>`];
    });
    return [...this.parts, ...legend, '</svg>', ''].join('\n');
  }

  private map(v: number, s: Scale, from: number, to: number): number {
    const clamped = Math.min(s.max, Math.max(s.min, v));
    const t = s.kind === 'log' ? (Math.log10(clamped) - Math.log10(s.min)) / (Math.log10(s.max) - Math.log10(s.min)) : (clamped - s.min) / (s.max - s.min);
    return from + t * (to - from);
  }
}
