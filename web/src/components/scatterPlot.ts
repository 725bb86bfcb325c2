/**
 * The paper's figure: accuracy on the original dataset (x) against the shifted one (y), one mark per entry by kind
 * (circle: model, square: model with extra data, triangle: human, diamond: ensemble), interval whiskers on both axes,
 * the y = x line and the linear fit. Drawn with createElementNS; names go in <title> as text.
 */
import { linearScale, percent, plotDomain } from '../logic/leaderboard';

const SVG = 'http://www.w3.org/2000/svg';

export interface ScatterPoint {
  readonly slug: string;
  readonly name: string;
  readonly kind: string;
  readonly x: number;
  readonly y: number;
  readonly xLow: number | null;
  readonly xHigh: number | null;
  readonly yLow: number | null;
  readonly yHigh: number | null;
}

export interface ScatterData {
  readonly points: readonly ScatterPoint[];
  readonly fit: { readonly slope: number; readonly intercept: number } | null;
  readonly xLabel: string;
  readonly yLabel: string;
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

function mark(kind: string, x: number, y: number): SVGElement {
  const r = 5;
  switch (kind) {
    case 'model-extra-data':
      return svg('rect', { x: x - r, y: y - r, width: 2 * r, height: 2 * r });
    case 'human':
      return svg('polygon', { points: `${x},${y - r - 1} ${x - r - 1},${y + r} ${x + r + 1},${y + r}` });
    case 'ensemble':
      return svg('polygon', { points: `${x},${y - r - 1} ${x + r + 1},${y} ${x},${y + r + 1} ${x - r - 1},${y}` });
    default:
      return svg('circle', { cx: x, cy: y, r });
  }
}

export function mountScatterPlot(parent: HTMLElement, onHover: (point: ScatterPoint | null) => void): { update(data: ScatterData): void } {
  const width = 520;
  const height = 420;
  const margin = { left: 56, right: 16, top: 16, bottom: 48 };
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', class: 'scatter' });
  root.dataset['testid'] = 'scatter';
  parent.append(root);

  return {
    update(data) {
      root.replaceChildren();
      const values = data.points.flatMap((p) => [p.x, p.y]);
      const [lo, hi] = plotDomain(values);
      const sx = linearScale(lo, hi, margin.left, width - margin.right);
      const sy = linearScale(lo, hi, height - margin.bottom, margin.top);
      const axes = svg('g', { class: 'axes' });
      for (let t = lo; t <= hi + 1e-9; t += 0.05) {
        axes.append(
          svg('line', { x1: sx(t), x2: sx(t), y1: height - margin.bottom, y2: height - margin.bottom + 4, stroke: 'currentColor' }),
          svg('line', { x1: margin.left - 4, x2: margin.left, y1: sy(t), y2: sy(t), stroke: 'currentColor' }),
        );
        const xt = svg('text', { x: sx(t), y: height - margin.bottom + 16, 'text-anchor': 'middle', 'font-size': 10 });
        xt.textContent = percent(t, 0);
        const yt = svg('text', { x: margin.left - 8, y: sy(t) + 3, 'text-anchor': 'end', 'font-size': 10 });
        yt.textContent = percent(t, 0);
        axes.append(xt, yt);
      }
      axes.append(
        svg('rect', { x: margin.left, y: margin.top, width: width - margin.left - margin.right, height: height - margin.top - margin.bottom, fill: 'none', stroke: 'currentColor' }),
      );
      const xLabel = svg('text', { x: (margin.left + width - margin.right) / 2, y: height - 10, 'text-anchor': 'middle', 'font-size': 12 });
      xLabel.textContent = data.xLabel;
      const yLabel = svg('text', { x: 14, y: (margin.top + height - margin.bottom) / 2, 'text-anchor': 'middle', 'font-size': 12, transform: `rotate(-90 14 ${(margin.top + height - margin.bottom) / 2})` });
      yLabel.textContent = data.yLabel;
      axes.append(xLabel, yLabel);
      root.append(axes);

      const diagonal = svg('line', { x1: sx(lo), y1: sy(lo), x2: sx(hi), y2: sy(hi), stroke: '#888', 'stroke-dasharray': '4 4', class: 'identity' });
      diagonal.dataset['testid'] = 'identity-line';
      root.append(diagonal);
      if (data.fit) {
        const { slope, intercept } = data.fit;
        const line = svg('line', { x1: sx(lo), y1: sy(slope * lo + intercept), x2: sx(hi), y2: sy(slope * hi + intercept), stroke: '#c0392b', class: 'fit' });
        line.dataset['testid'] = 'fit-line';
        const clip = svg('clipPath', { id: 'plot-area' });
        clip.append(svg('rect', { x: margin.left, y: margin.top, width: width - margin.left - margin.right, height: height - margin.top - margin.bottom }));
        line.setAttribute('clip-path', 'url(#plot-area)');
        root.append(clip, line);
      }

      for (const p of data.points) {
        const g = svg('g', { class: `point kind-${p.kind}`, tabindex: 0 });
        g.dataset['testid'] = 'point';
        g.dataset['slug'] = p.slug;
        g.dataset['kind'] = p.kind;
        const x = sx(p.x);
        const y = sy(p.y);
        if (p.xLow !== null && p.xHigh !== null) g.append(svg('line', { x1: sx(p.xLow), x2: sx(p.xHigh), y1: y, y2: y, class: 'whisker', stroke: 'currentColor' }));
        if (p.yLow !== null && p.yHigh !== null) g.append(svg('line', { x1: x, x2: x, y1: sy(p.yLow), y2: sy(p.yHigh), class: 'whisker', stroke: 'currentColor' }));
        const m = mark(p.kind, x, y);
        const title = svg('title', {});
        title.textContent = `${p.name}: ${percent(p.x)} → ${percent(p.y)}`;
        m.append(title);
        g.append(m);
        g.addEventListener('mouseenter', () => onHover(p));
        g.addEventListener('focus', () => onHover(p));
        g.addEventListener('mouseleave', () => onHover(null));
        root.append(g);
      }
    },
  };
}
