/**
 * The original-vs-shifted plot in the space of the fit (Taori et al. 2020): both axes are linear in f(accuracy) for
 * f = logit, probit or the identity, so the fit f(y) = slope f(x) + intercept is a straight line, and ticks are labelled
 * in percent. Same transform and clamp as the API's ShiftFit.
 */
import { inverseNormalCdf, normalCdf } from './normal';

export type FitSpace = 'logit' | 'probit' | 'linear';

export const FIT_SPACES: readonly FitSpace[] = ['logit', 'probit', 'linear'];

/** Accuracies of exactly 0 or 1 are clamped before a logit or probit (as the API does). */
export const CLAMP = 1e-4;

export function isFitSpace(value: string | null | undefined): value is FitSpace {
  return value === 'logit' || value === 'probit' || value === 'linear';
}

/** f(accuracy) in the space. */
export function toSpace(space: FitSpace, accuracy: number): number {
  if (space === 'linear') return accuracy;
  const p = Math.min(1 - CLAMP, Math.max(CLAMP, accuracy));
  return space === 'logit' ? Math.log(p / (1 - p)) : inverseNormalCdf(p);
}

/** f⁻¹(t): the accuracy at a point of the space. */
export function fromSpace(space: FitSpace, t: number): number {
  if (space === 'linear') return t;
  return space === 'logit' ? 1 / (1 + Math.exp(-t)) : normalCdf(t);
}

/** A map from accuracies in [low, high] to pixels [r0, r1], linear in the space. */
export function spaceScale(space: FitSpace, [low, high]: readonly [number, number], r0: number, r1: number): (accuracy: number) => number {
  const t0 = toSpace(space, low);
  const span = toSpace(space, high) - t0 || 1;
  return (accuracy) => r0 + ((toSpace(space, accuracy) - t0) / span) * (r1 - r0);
}

/**
 * A common domain (accuracies) for both axes around the values. Linear: padded by 2 points and rounded out to 5 %.
 * Logit/probit: padded by a tenth of the values' spread in the space (at least 0.2), so points near 100 % stay apart.
 */
export function plotDomain(values: readonly number[], space: FitSpace = 'linear'): [number, number] {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return space === 'linear' ? [0, 1] : [0.05, 0.95];
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  if (space === 'linear') {
    const low = Math.max(0, Math.floor((min - 0.02) * 20) / 20);
    const high = Math.min(1, Math.ceil((max + 0.02) * 20) / 20);
    return high > low ? [low, high] : [0, 1];
  }
  const t0 = toSpace(space, min);
  const t1 = toSpace(space, max);
  const pad = Math.max(0.2, (t1 - t0) / 10);
  return [fromSpace(space, t0 - pad), fromSpace(space, t1 + pad)];
}

// Tick candidates in percent, nicest first: tens, fives, the tails; whole percents only for a narrow axis.
const NICE: readonly number[] = [
  50, 10, 20, 30, 40, 60, 70, 80, 90, 5, 95, 1, 99, 25, 75, 15, 35, 45, 55, 65, 85, 2, 98, 0.5, 99.5, 0.1, 99.9, 0.2, 99.8,
  0.05, 99.95, 0.01, 99.99,
];
const WHOLE: readonly number[] = Array.from({ length: 99 }, (_, i) => i + 1);

/**
 * Tick values (accuracies) in [low, high] for an axis of the space: the nicest percents first, each at least
 * 1/maxTicks of the axis from the others, in ascending order; whole percents join when that gives fewer than three.
 */
export function spaceTicks(space: FitSpace, low: number, high: number, maxTicks = 8): number[] {
  const t0 = toSpace(space, low);
  const t1 = toSpace(space, high);
  const gap = (t1 - t0) / maxTicks;
  const chosen: { value: number; t: number }[] = [];
  const add = (candidates: readonly number[]): void => {
    for (const percent of candidates) {
      const value = percent / 100;
      if (value < low - 1e-12 || value > high + 1e-12) continue;
      const t = toSpace(space, value);
      if (chosen.some((c) => Math.abs(c.t - t) < gap * 0.999)) continue;
      chosen.push({ value, t });
    }
  };
  add(NICE);
  if (chosen.length < 3) add(WHOLE);
  return chosen.map((c) => c.value).sort((a, b) => a - b);
}

/** A tick's label in percent: whole numbers where they suffice ("90"), else the decimals needed ("99.5"). */
export function tickLabel(value: number): string {
  return String(Math.round(value * 10000) / 100);
}

export interface Fit {
  readonly space: string;
  readonly on: string;
  readonly slope: number;
  readonly intercept: number;
  readonly r: number;
  readonly points: number;
}

/** The fit's shifted accuracy at an original accuracy: f⁻¹(slope f(x) + intercept). */
export function predict(fit: Fit, x: number): number {
  const space = isFitSpace(fit.space) ? fit.space : 'linear';
  return fromSpace(space, fit.slope * toSpace(space, x) + fit.intercept);
}

/** The fit's line across [low, high], as accuracies: straight on axes scaled in the fit's space. */
export function fitSegment(fit: Fit, low: number, high: number): { x1: number; y1: number; x2: number; y2: number } {
  return { x1: low, y1: predict(fit, low), x2: high, y2: predict(fit, high) };
}

function signed(value: number, digits: number): string {
  return `${value < 0 ? '−' : '+'} ${Math.abs(value).toFixed(digits)}`;
}

/** The group a fit is made on, in words. */
export function fitGroupText(on: string): string {
  return on === 'non-human' ? 'every uploaded entry that is not a human' : 'the entries of kind model';
}

/**
 * The fit stated in words: the space, the group, the equation, r, and what it predicts at one original accuracy
 * (the middle of the fitted range when given).
 */
export function describeFit(fit: Fit | null, names: { original: string; shifted: string; on: string }, at?: number): string {
  if (!fit) return `No fit: fewer than two of ${fitGroupText(names.on)} have values on both ${names.original} and ${names.shifted}.`;
  const f = fit.space === 'linear' ? '' : fit.space;
  const y = f ? `${f}(shifted)` : 'shifted';
  const x = f ? `${f}(original)` : 'original';
  const space = fit.space === 'linear' ? 'on raw accuracies (linear)' : `in ${fit.space} space`;
  let text =
    `Least-squares fit ${space} over ${fit.points} of ${fitGroupText(fit.on)}: ${y} = ${fit.slope.toFixed(3)} × ${x} ${signed(fit.intercept, 3)}` +
    ` (r = ${fit.r.toFixed(3)}).`;
  if (at !== undefined && Number.isFinite(at)) {
    text += ` At ${(at * 100).toFixed(1)} % on ${names.original} it expects ${(predict(fit, at) * 100).toFixed(1)} % on ${names.shifted}.`;
  }
  return text + ' Effective robustness is an entry\'s shifted accuracy minus this prediction.';
}

/** The band's middle original accuracy (in the fitted space), or undefined without a band. */
export function bandMiddle(band: readonly { x: number }[]): number | undefined {
  return band.length === 0 ? undefined : band[Math.floor((band.length - 1) / 2)]!.x;
}

export interface LabelBox {
  /** Where the label starts (left edge) and its baseline, in pixels. */
  readonly x: number;
  readonly y: number;
  readonly width: number;
}

/**
 * Baselines for the labels of a plot's marks so that no two overlap: top to bottom, a label that would overlap one
 * placed before it moves down by a line at a time (at most `limit` lines). Returned in the order given.
 */
export function placeLabels(boxes: readonly LabelBox[], lineHeight: number, limit = 6): number[] {
  const order = boxes.map((_, i) => i).sort((a, b) => boxes[a]!.y - boxes[b]!.y || boxes[a]!.x - boxes[b]!.x);
  const placed: { x0: number; x1: number; y: number }[] = [];
  const result = new Array<number>(boxes.length);
  for (const i of order) {
    const box = boxes[i]!;
    let y = box.y;
    for (let step = 0; step < limit; step++) {
      const clash = placed.some((p) => p.x0 < box.x + box.width && box.x < p.x1 && Math.abs(p.y - y) < lineHeight);
      if (!clash) break;
      y += lineHeight;
    }
    placed.push({ x0: box.x, x1: box.x + box.width, y });
    result[i] = y;
  }
  return result;
}
