/** Pure helpers of the leaderboard page: sort keys, filtering, percentages and the scatter plot's scales. */

/** The row fields the page needs; the API's LeaderboardRow satisfies it. */
export interface BoardRow {
  readonly rank: number;
  readonly slug: string;
  readonly displayName: string;
  readonly kind: string;
  readonly value?: number | null;
  readonly top1: { readonly value?: number | null };
  readonly top5?: { readonly value?: number | null } | null;
  readonly multiLabel: { readonly value?: number | null; readonly pending: number };
  readonly shift?: { readonly value?: number | null; readonly drop?: number | null } | null;
  readonly subsets: readonly { readonly subset: string; readonly value?: number | null }[];
}

export type SortKey = 'rank' | 'name' | 'kind' | 'top1' | 'top5' | 'multilabel' | 'shifted' | 'drop' | 'pending' | `subset:${string}`;

export function sortValue(row: BoardRow, key: SortKey): number | string | null {
  switch (key) {
    case 'rank':
      return row.rank;
    case 'name':
      return row.displayName.toLowerCase();
    case 'kind':
      return row.kind;
    case 'top1':
      return row.top1.value ?? null;
    case 'top5':
      return row.top5?.value ?? null;
    case 'multilabel':
      return row.multiLabel.value ?? null;
    case 'shifted':
      return row.shift?.value ?? null;
    case 'drop':
      return row.shift?.drop ?? null;
    case 'pending':
      return row.multiLabel.pending;
    default:
      return row.subsets.find((s) => `subset:${s.subset}` === key)?.value ?? null;
  }
}

/** Sorted copy; missing values always last, ties by rank. */
export function sortRows<T extends BoardRow>(rows: readonly T[], key: SortKey, descending: boolean): T[] {
  return [...rows].sort((a, b) => {
    const x = sortValue(a, key);
    const y = sortValue(b, key);
    if (x === null || y === null) return x === y ? a.rank - b.rank : x === null ? 1 : -1;
    const order = x < y ? -1 : x > y ? 1 : 0;
    return (descending ? -order : order) || a.rank - b.rank;
  });
}

/** Rows whose name or slug contains the text (case-insensitive) and whose kind is shown. */
export function filterRows<T extends BoardRow>(rows: readonly T[], text: string, kinds: ReadonlySet<string>): T[] {
  const needle = text.trim().toLowerCase();
  return rows.filter(
    (r) => kinds.has(r.kind) && (needle === '' || r.displayName.toLowerCase().includes(needle) || r.slug.toLowerCase().includes(needle)),
  );
}

/** 0.90023 -> "90.02"; null -> "–". */
export function percent(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined ? '–' : (value * 100).toFixed(digits);
}

/** A linear map from [d0, d1] to [r0, r1]. */
export function linearScale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

/** A padded common domain for both axes of the scatter plot, rounded out to 5 %. */
export function plotDomain(values: readonly number[]): [number, number] {
  if (values.length === 0) return [0, 1];
  const low = Math.max(0, Math.floor((Math.min(...values) - 0.02) * 20) / 20);
  const high = Math.min(1, Math.ceil((Math.max(...values) + 0.02) * 20) / 20);
  return high > low ? [low, high] : [0, 1];
}
