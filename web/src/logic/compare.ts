/** Pure helpers of the compare, paper and dataset statistics pages. */
import { intervalText, percent, pValueText } from './leaderboard';

const METRICS: Record<string, string> = {
  multilabel: 'multi-label accuracy',
  top1: 'top-1 accuracy',
  top5: 'top-5 accuracy',
  real: 'ReaL accuracy',
};

/** "multilabel" -> "multi-label accuracy"; an unknown metric is shown as it is. */
export function metricName(metric: string): string {
  return METRICS[metric] ?? metric;
}

export interface PairedComparison {
  readonly metric: string;
  readonly images: number;
  readonly difference?: number | null;
  readonly lower?: number | null;
  readonly upper?: number | null;
  readonly pValue: number;
  readonly significant: boolean;
}

/**
 * One sentence for a comparison: "On 1,487 images, ResNet-50 is 4.44 points above VGG-16 in multi-label accuracy
 * (95 % interval [1.7, 7.2]; McNemar p = 0.002): significant at 5 %."
 */
export function compareSummary(c: PairedComparison, a: string, b: string, alpha = 0.05): string {
  const images = new Intl.NumberFormat('en-US').format(c.images);
  const level = `${Math.round((1 - alpha) * 100)} %`;
  if (c.difference === null || c.difference === undefined) return `${a} and ${b} have no images in common to compare on.`;
  const points = percent(Math.abs(c.difference));
  const relation = c.difference === 0 ? `${a} and ${b} are level` : `${a} is ${points} points ${c.difference > 0 ? 'above' : 'below'} ${b}`;
  const interval = intervalText(c.lower, c.upper);
  return `On ${images} images, ${relation} in ${metricName(c.metric)}` +
    ` (${level} interval of the difference ${interval || 'unavailable'}; McNemar ${pValueText(c.pValue)}): ` +
    (c.significant ? `significant at ${Math.round(alpha * 100)} %.` : `not significant at ${Math.round(alpha * 100)} %.`);
}

/** Problematic images by reason, most first: "drawing-or-render 8 · other 5"; '–' for none. */
export function reasonsText(reasons: Readonly<Record<string, number>>): string {
  const entries = Object.entries(reasons).filter(([, n]) => n > 0).sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
  return entries.length === 0 ? '–' : entries.map(([reason, n]) => `${reason} ${n}`).join(' · ');
}

/** A count with its share of a total: (108, 1250) -> "108 (8.6 %)"; no total -> "108". */
export function countWithShare(count: number, total: number): string {
  const f = new Intl.NumberFormat('en-US');
  return total > 0 ? `${f.format(count)} (${((count / total) * 100).toFixed(1)} %)` : f.format(count);
}

/** The role of a row of the paper's table, in words. */
export function roleName(role: string): string {
  return role === 'best-model' ? 'best model' : role === 'human-majority' ? 'human majority vote' : role;
}
