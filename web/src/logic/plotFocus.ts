/**
 * The scatter plot's pointer and keyboard model, pure: the order the arrow keys walk the marks in (by x, then y), the
 * step a key makes, where the tooltip goes (beside the pointer, flipped and clamped so it stays inside the plot area),
 * and the label a mark is announced with.
 */
import { percent, signedPercent } from './leaderboard';

export interface PlotPoint {
  readonly slug: string;
  readonly name: string;
  readonly x: number;
  readonly y: number;
}

/** The slugs in the order the arrow keys visit them: left to right, then bottom to top, then by name. */
export function keyboardOrder(points: readonly PlotPoint[]): string[] {
  return [...points].sort((a, b) => a.x - b.x || a.y - b.y || a.name.localeCompare(b.name)).map((p) => p.slug);
}

/** The index a key moves to from `current` among `count` marks (it stops at the ends), or null for a key it ignores. */
export function stepIndex(count: number, current: number, key: string): number | null {
  if (count === 0) return null;
  switch (key) {
    case 'ArrowRight':
    case 'ArrowUp':
      return Math.min(count - 1, current + 1);
    case 'ArrowLeft':
    case 'ArrowDown':
      return Math.max(0, current - 1);
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return null;
  }
}

export interface Box {
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
}

/**
 * The tooltip's top-left corner: below and right of the anchor (the pointer or the focused mark) by `gap`; left of it
 * where it would pass the area's right edge, above it where it would pass the bottom; then clamped into the area.
 */
export function tooltipPosition(anchor: { x: number; y: number }, size: { width: number; height: number }, area: Box, gap = 12): { left: number; top: number } {
  let left = anchor.x + gap;
  if (left + size.width > area.right) left = anchor.x - gap - size.width;
  let top = anchor.y + gap;
  if (top + size.height > area.bottom) top = anchor.y - gap - size.height;
  left = Math.max(area.left, Math.min(left, area.right - size.width));
  top = Math.max(area.top, Math.min(top, area.bottom - size.height));
  return { left, top };
}

/** "ResNet-50: x 78.55 %, y 66.10 %, effective robustness +1.20 points": what a focused mark is announced as. */
export function pointLabel(p: PlotPoint & { readonly robustness?: number | null }): string {
  return `${p.name}: x ${percent(p.x)} %, y ${percent(p.y)} %` +
    (p.robustness === null || p.robustness === undefined ? '' : `, effective robustness ${signedPercent(p.robustness)} points`);
}
