/**
 * The paper's figure: accuracy on the original dataset (x) against the shifted one (y), one mark per entry by kind
 * (circle: model, square: model with extra data, triangle: human, diamond: ensemble), interval whiskers on both axes,
 * y = x, the fit and its 95 % band. Both axes are scaled in the fit's space (logit, probit or linear) with percent
 * ticks, so the fit is a straight line. Humans are highlighted and labelled; with `labelAll` every mark is.
 * Drawn with createElementNS; names go in <title> and <text> as text. Marks are keyed by slug (focus survives updates).
 * The hovered or focused mark gets a ring (the others dim) and a tooltip beside the pointer, inside the plot area. The
 * plot is one tab stop (a roving tabindex): the arrow keys walk the marks by x, each announced by its label; Enter opens
 * the focused one as a click does; Escape leaves the marks.
 */
import { el, setText } from './dom';
import { mountKeyedList } from './keyedList';
import { percent, signedPercent } from '../logic/leaderboard';
import { keyboardOrder, pointLabel, stepIndex, tooltipPosition } from '../logic/plotFocus';
import { kindName } from './leaderboardTable';
import { fitSegment, placeLabels, plotDomain, spaceScale, spaceTicks, tickLabel, type Fit, type FitSpace } from '../logic/shiftPlot';

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
  readonly robustness?: number | null;
}

export interface ScatterFit extends Fit {
  readonly band: readonly { readonly x: number; readonly lower: number; readonly upper: number }[];
}

export interface ScatterData {
  readonly points: readonly ScatterPoint[];
  readonly fit: ScatterFit | null;
  /** The space both axes are scaled in (the fit's). */
  readonly space: FitSpace;
  readonly xLabel: string;
  readonly yLabel: string;
  /** Label every mark (the paper's figure); otherwise the humans and the `labelTop` best entries are labelled. */
  readonly labelAll?: boolean;
  /** How many of the best entries (by x) get a direct label beside the humans (default 3). */
  readonly labelTop?: number;
}

/** The kinds of marks as the legend names them. */
const LEGEND_KINDS: readonly { readonly kind: string; readonly name: string }[] = [
  { kind: 'model', name: 'Model' },
  { kind: 'model-extra-data', name: 'Model, extra data' },
  { kind: 'human', name: 'Human' },
  { kind: 'ensemble', name: 'Ensemble' },
];

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

function text(content: string, attrs: Record<string, string | number>): SVGTextElement {
  const node = svg('text', attrs);
  node.textContent = content;
  return node;
}

function mark(kind: string, x: number, y: number): SVGElement {
  const r = kind === 'human' ? 6 : 5;
  switch (kind) {
    case 'model-extra-data':
      return svg('rect', { x: x - r, y: y - r, width: 2 * r, height: 2 * r, class: 'mark' });
    case 'human':
      return svg('polygon', { points: `${x},${y - r - 1} ${x - r - 1},${y + r} ${x + r + 1},${y + r}`, class: 'mark' });
    case 'ensemble':
      return svg('polygon', { points: `${x},${y - r - 1} ${x + r + 1},${y} ${x},${y + r + 1} ${x - r - 1},${y}`, class: 'mark' });
    default:
      return svg('circle', { cx: x, cy: y, r, class: 'mark' });
  }
}

let plots = 0;

export function mountScatterPlot(
  parent: HTMLElement,
  onHover: (point: ScatterPoint | null) => void,
  /** A click on a mark (or Enter on a focused one) opens it, e.g. the model's page. */
  onOpen?: (point: ScatterPoint) => void,
): { update(data: ScatterData): void } {
  const width = 560;
  const height = 460;
  const margin = { left: 56, right: 16, top: 16, bottom: 52 };
  const right = width - margin.right;
  const bottom = height - margin.bottom;
  const clipId = `plot-area-${++plots}`;

  // A group, not an image: the marks inside are links that keyboards and screen readers reach.
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'group', class: 'scatter' });
  root.dataset['testid'] = 'scatter';
  const clip = svg('clipPath', { id: clipId });
  clip.append(svg('rect', { x: margin.left, y: margin.top, width: right - margin.left, height: bottom - margin.top }));
  const axes = svg('g', { class: 'axes' });
  const band = svg('polygon', { class: 'fit-band', 'clip-path': `url(#${clipId})` });
  band.dataset['testid'] = 'fit-band';
  const identity = svg('line', { class: 'identity', 'clip-path': `url(#${clipId})` });
  identity.dataset['testid'] = 'identity-line';
  const fitLine = svg('line', { class: 'fit', 'clip-path': `url(#${clipId})` });
  fitLine.dataset['testid'] = 'fit-line';
  const marks = svg('g', { class: 'points' });
  const labels = svg('g', { class: 'labels' });
  // The lines say what they are, at their upper ends.
  const identityLabel = text('dashed: y = x (no drop)', { 'font-size': 10, 'text-anchor': 'end', class: 'line-label' });
  identityLabel.dataset['testid'] = 'identity-label';
  const fitLabel = text('', { 'font-size': 10, 'text-anchor': 'end', class: 'line-label fit-label' });
  fitLabel.dataset['testid'] = 'fit-label';
  // The ring around the hovered or focused mark, drawn above every mark.
  const ring = svg('circle', { r: 11, class: 'focus-ring', 'pointer-events': 'none' });
  ring.dataset['testid'] = 'point-ring';
  ring.style.display = 'none';
  root.append(clip, axes, band, identity, fitLine, marks, labels, identityLabel, fitLabel, ring);
  const tipName = el('strong');
  const tipX = el('span');
  const tipY = el('span');
  const tipMore = el('span');
  const tooltip = el('div', { class: 'scatter-tooltip', testid: 'plot-tooltip', attrs: { 'aria-hidden': 'true' } }, tipName, tipX, tipY, tipMore);
  tooltip.hidden = true;
  // Escape leaves the marks for the area itself (not a tab stop), so the next Tab goes on after the plot.
  const area = el('div', { class: 'scatter-area', attrs: { tabindex: '-1' } }, root, tooltip);
  // A legend for the marks and the lines, drawn with the same shapes.
  const legend = el('ul', { class: 'scatter-legend', testid: 'plot-legend' },
    ...LEGEND_KINDS.map((k) => {
      const icon = svg('svg', { width: 14, height: 14, viewBox: '0 0 14 14', class: 'scatter legend-icon', 'aria-hidden': 'true' });
      const g = svg('g', { class: `point kind-${k.kind}` });
      g.append(mark(k.kind, 7, 7));
      icon.append(g);
      return el('li', { attrs: { 'data-kind': k.kind } }, icon, ` ${k.name}`);
    }),
    el('li', { class: 'legend-identity' }, el('span', { class: 'legend-line identity-swatch', attrs: { 'aria-hidden': 'true' } }), ' y = x: as accurate on both'),
    el('li', { class: 'legend-fit' }, el('span', { class: 'legend-line fit-swatch', attrs: { 'aria-hidden': 'true' } }), ' the fit, with its 95 % band'));
  parent.append(area, legend);

  let scale = { x: (v: number) => v, y: (v: number) => v };
  let shown: ScatterData | null = null;
  /** Slugs in keyboard order, and the mark that holds the plot's one tab stop. */
  let order: string[] = [];
  let tabStop: string | null = null;
  const elements = new Map<string, SVGGElement>();
  let active: SVGGElement | null = null;

  /** The plot area in the coordinates of `area` (the svg scales down on a phone). */
  function plotBox(): { left: number; top: number; right: number; bottom: number; k: number; dx: number; dy: number } {
    const outer = area.getBoundingClientRect();
    const box = root.getBoundingClientRect();
    const k = box.width / width;
    const dx = box.left - outer.left;
    const dy = box.top - outer.top;
    return { left: dx + margin.left * k, top: dy + margin.top * k, right: dx + right * k, bottom: dy + bottom * k, k, dx, dy };
  }

  /** Highlights a mark and shows its tooltip beside `at` (client coordinates; the mark itself when null). */
  function activate(g: SVGGElement, p: ScatterPoint, at: { x: number; y: number } | null): void {
    if (active !== g) {
      active?.classList.remove('active');
      g.classList.add('active');
      active = g;
    }
    root.classList.add('has-active');
    ring.style.display = '';
    ring.setAttribute('cx', String(scale.x(p.x)));
    ring.setAttribute('cy', String(scale.y(p.y)));
    setText(tipName, `${p.name} (${kindName(p.kind)})`);
    setText(tipX, `${shown?.xLabel || 'x'}: ${percent(p.x)} %`);
    setText(tipY, `${shown?.yLabel || 'y'}: ${percent(p.y)} %`);
    setText(tipMore, p.robustness === null || p.robustness === undefined ? '' : `effective robustness ${signedPercent(p.robustness)} points`);
    tooltip.hidden = false;
    const b = plotBox();
    const outer = area.getBoundingClientRect();
    const anchor = at ? { x: at.x - outer.left, y: at.y - outer.top } : { x: b.dx + scale.x(p.x) * b.k, y: b.dy + scale.y(p.y) * b.k };
    const place = tooltipPosition(anchor, { width: tooltip.offsetWidth, height: tooltip.offsetHeight }, b);
    tooltip.style.left = `${place.left}px`;
    tooltip.style.top = `${place.top}px`;
    onHover(p);
  }

  function deactivate(g: SVGGElement): void {
    if (active !== g) return;
    g.classList.remove('active');
    active = null;
    root.classList.remove('has-active');
    ring.style.display = 'none';
    tooltip.hidden = true;
    onHover(null);
  }

  /** One mark is a tab stop: the one last focused while it is still plotted, else the first by x. */
  function syncTabStops(): void {
    if (tabStop === null || !elements.has(tabStop)) tabStop = order[0] ?? null;
    for (const [slug, g] of elements) g.setAttribute('tabindex', slug === tabStop ? '0' : '-1');
  }

  const points = mountKeyedList<ScatterPoint>(marks, (p) => p.slug, (first) => {
    const g = svg('g', { class: `point kind-${first.kind}`, tabindex: -1, role: onOpen ? 'link' : 'img' });
    g.dataset['testid'] = 'point';
    g.dataset['slug'] = first.slug;
    g.dataset['kind'] = first.kind;
    elements.set(first.slug, g);
    let current = first;
    let drawn = '';
    g.addEventListener('mouseenter', (event) => activate(g, current, { x: event.clientX, y: event.clientY }));
    g.addEventListener('mousemove', (event) => activate(g, current, { x: event.clientX, y: event.clientY }));
    g.addEventListener('mouseleave', () => { if (document.activeElement !== g) deactivate(g); });
    g.addEventListener('focus', () => {
      tabStop = current.slug;
      syncTabStops();
      activate(g, current, null);
    });
    g.addEventListener('blur', () => deactivate(g));
    g.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && onOpen) {
        event.preventDefault();
        event.stopPropagation();
        onOpen(current);
        return;
      }
      if (event.key === 'Escape') {
        event.preventDefault();
        area.focus();
        return;
      }
      const next = stepIndex(order.length, order.indexOf(current.slug), event.key);
      if (next === null) return;
      event.preventDefault();
      (elements.get(order[next]!) as unknown as HTMLElement | undefined)?.focus();
    });
    if (onOpen) g.addEventListener('click', () => onOpen(current));
    return {
      el: g,
      update(p) {
        current = p;
        g.setAttribute('aria-label', pointLabel(p));
        const x = scale.x(p.x);
        const y = scale.y(p.y);
        // Redrawn only when it moves: an unchanged mark stays the same element under the pointer across updates.
        const shape = [p.kind, x, y, p.xLow, p.xHigh, p.yLow, p.yHigh, scale.x(0.25), scale.x(0.75), scale.y(0.25), scale.y(0.75)].join(' ');
        if (shape === drawn) return;
        drawn = shape;
        const parts: SVGElement[] = [];
        if (p.xLow !== null && p.xHigh !== null)
          parts.push(svg('line', { x1: scale.x(p.xLow), x2: scale.x(p.xHigh), y1: y, y2: y, class: 'whisker' }));
        if (p.yLow !== null && p.yHigh !== null)
          parts.push(svg('line', { x1: x, x2: x, y1: scale.y(p.yLow), y2: scale.y(p.yHigh), class: 'whisker' }));
        // No <title>: the tooltip shows the same at the cursor, and the group's label names the mark.
        parts.push(mark(p.kind, x, y));
        g.replaceChildren(...parts);
      },
    };
  });

  function drawAxes(lo: number, hi: number, data: ScatterData): void {
    const parts: SVGElement[] = [];
    for (const t of spaceTicks(data.space, lo, hi)) {
      const x = scale.x(t);
      const y = scale.y(t);
      parts.push(
        svg('line', { x1: x, x2: x, y1: margin.top, y2: bottom, class: 'grid' }),
        svg('line', { x1: margin.left, x2: right, y1: y, y2: y, class: 'grid' }),
        text(tickLabel(t), { x, y: bottom + 16, 'text-anchor': 'middle', 'font-size': 10 }),
        text(tickLabel(t), { x: margin.left - 6, y: y + 3, 'text-anchor': 'end', 'font-size': 10 }),
      );
    }
    const scaleName = data.space === 'linear' ? '' : `, ${data.space} scale`;
    const middle = (margin.top + bottom) / 2;
    parts.push(
      svg('rect', { x: margin.left, y: margin.top, width: right - margin.left, height: bottom - margin.top, class: 'frame' }),
      text(`${data.xLabel} (%${scaleName})`, { x: (margin.left + right) / 2, y: height - 12, 'text-anchor': 'middle', 'font-size': 12 }),
      text(`${data.yLabel} (%${scaleName})`, { x: 14, y: middle, 'text-anchor': 'middle', 'font-size': 12, transform: `rotate(-90 14 ${middle})` }),
    );
    axes.replaceChildren(...parts);
  }

  function drawLabels(data: ScatterData): void {
    const top = new Set([...data.points].sort((a, b) => b.x - a.x).filter((p) => p.kind !== 'human').slice(0, data.labelTop ?? 3).map((p) => p.slug));
    const shown = data.points.filter((p) => data.labelAll || p.kind === 'human' || top.has(p.slug));
    // Right of the mark, or left of it (anchored at its end) where the plot ends; widths are estimates for collisions.
    const placed = shown.map((p) => {
      const w = p.name.length * 6;
      const x = scale.x(p.x);
      const left = x + 9 + w > right;
      return { left, anchor: left ? x - 9 : x + 9, box: { x: left ? x - 9 - w : x + 9, y: scale.y(p.y) + 4, width: w } };
    });
    const ys = placeLabels(placed.map((p) => p.box), 12);
    labels.replaceChildren(...shown.map((p, i) => {
      const at = placed[i]!;
      const label = text(p.name, { x: at.anchor, y: ys[i]!, 'font-size': 10, 'text-anchor': at.left ? 'end' : 'start', class: `point-label kind-${p.kind}` });
      label.dataset['testid'] = 'point-label';
      label.dataset['slug'] = p.slug;
      return label;
    }));
  }

  return {
    update(data) {
      const values = data.points.flatMap((p) => [p.x, p.y]);
      const [lo, hi] = plotDomain(values, data.space);
      scale = { x: spaceScale(data.space, [lo, hi], margin.left, right), y: spaceScale(data.space, [lo, hi], bottom, margin.top) };
      drawAxes(lo, hi, data);

      const fit = data.fit;
      identity.setAttribute('x1', String(scale.x(lo)));
      identity.setAttribute('y1', String(scale.y(lo)));
      identity.setAttribute('x2', String(scale.x(hi)));
      identity.setAttribute('y2', String(scale.y(hi)));
      // In the lower right corner, away from the best entries (upper right): the line's name, then the fit's numbers.
      identityLabel.setAttribute('x', String(right - 6));
      identityLabel.setAttribute('y', String(bottom - (fit ? 22 : 8)));

      fitLine.style.display = fit ? '' : 'none';
      band.style.display = fit && fit.band.length > 1 ? '' : 'none';
      if (fit) {
        const s = fitSegment(fit, lo, hi);
        fitLine.setAttribute('x1', String(scale.x(s.x1)));
        fitLine.setAttribute('y1', String(scale.y(s.y1)));
        fitLine.setAttribute('x2', String(scale.x(s.x2)));
        fitLine.setAttribute('y2', String(scale.y(s.y2)));
        const edge = [...fit.band.map((b) => `${scale.x(b.x)},${scale.y(b.upper)}`), ...[...fit.band].reverse().map((b) => `${scale.x(b.x)},${scale.y(b.lower)}`)];
        band.setAttribute('points', edge.join(' '));
        fitLabel.textContent = `red: fit, slope ${fit.slope.toFixed(2)}, r = ${fit.r.toFixed(2)}, n = ${fit.points}`;
        fitLabel.setAttribute('x', String(right - 6));
        fitLabel.setAttribute('y', String(bottom - 8));
      }
      fitLabel.style.display = fit ? '' : 'none';
      fitLine.dataset['space'] = data.space;
      shown = data;
      const slugs = new Set(data.points.map((p) => p.slug));
      for (const slug of [...elements.keys()]) if (!slugs.has(slug)) elements.delete(slug);
      points.update(data.points);
      order = keyboardOrder(data.points);
      syncTabStops();
      root.setAttribute('aria-label', `${data.yLabel} against ${data.xLabel}: ${data.points.length} entries. ` +
        `The arrow keys move between them${onOpen ? ', Enter opens one' : ''}, Escape leaves the plot.`);
      if (active && !slugs.has(active.dataset['slug'] ?? '')) { active = null; root.classList.remove('has-active'); ring.style.display = 'none'; tooltip.hidden = true; }
      else if (active) {
        const p = data.points.find((q) => q.slug === active!.dataset['slug'])!;
        ring.setAttribute('cx', String(scale.x(p.x)));
        ring.setAttribute('cy', String(scale.y(p.y)));
      }
      drawLabels(data);
    },
  };
}
