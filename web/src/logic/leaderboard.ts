/** Pure helpers of the leaderboard page: sort keys, filtering, percentages and the scatter plot's scales. */

/** The row fields the page needs; the API's LeaderboardRow satisfies it. */
export interface BoardRow {
  /** Null for an entry that did not predict every graded image of the scope (not ranked). */
  readonly rank: number | null;
  readonly slug: string;
  readonly displayName: string;
  readonly kind: string;
  readonly value?: number | null;
  readonly predicted?: number;
  readonly images?: number;
  readonly top1: { readonly value?: number | null };
  readonly top5?: { readonly value?: number | null } | null;
  readonly multiLabel: { readonly value?: number | null; readonly pending: number; readonly decidedOnly?: number | null };
  readonly shift?: { readonly value?: number | null; readonly drop?: number | null; readonly effectiveRobustness?: number | null } | null;
  readonly subsets: readonly { readonly subset: string; readonly value?: number | null }[];
  readonly versusNext?: NextComparison | null;
}

export interface NextComparison {
  readonly next: string;
  readonly method: string;
  readonly pValue: number;
  readonly significant: boolean;
}

export type SortKey =
  | 'rank' | 'name' | 'kind' | 'top1' | 'top5' | 'multilabel' | 'decided-only' | 'shifted' | 'drop' | 'robustness' | 'pending'
  | 'coverage' | `subset:${string}`;

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
    case 'decided-only':
      return row.multiLabel.decidedOnly ?? null;
    case 'shifted':
      return row.shift?.value ?? null;
    case 'drop':
      return row.shift?.drop ?? null;
    case 'robustness':
      return row.shift?.effectiveRobustness ?? null;
    case 'pending':
      return row.multiLabel.pending;
    case 'coverage':
      return row.predicted !== undefined && row.images ? row.predicted / row.images : null;
    default:
      return row.subsets.find((s) => `subset:${s.subset}` === key)?.value ?? null;
  }
}

/** Ranked rows by rank, then the unranked ones in the order given (the API lists them by value). */
function byRank(a: BoardRow, b: BoardRow): number {
  if (a.rank === null || b.rank === null) return a.rank === b.rank ? 0 : a.rank === null ? 1 : -1;
  return a.rank - b.rank;
}

/** Sorted copy; missing values (and unranked rows by rank) always last, ties by rank. */
export function sortRows<T extends BoardRow>(rows: readonly T[], key: SortKey, descending: boolean): T[] {
  return [...rows].sort((a, b) => {
    const x = sortValue(a, key);
    const y = sortValue(b, key);
    if (x === null || y === null) return x === y ? byRank(a, b) : x === null ? 1 : -1;
    const order = x < y ? -1 : x > y ? 1 : 0;
    return (descending ? -order : order) || byRank(a, b);
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

/** A difference in points with its sign: 0.0123 -> "+1.23"; null -> "–". */
export function signedPercent(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined) return '–';
  const text = (Math.abs(value) * 100).toFixed(digits);
  return Number(text) === 0 ? text : `${value < 0 ? '−' : '+'}${text}`;
}

/** An interval in percent: "[80.91, 84.80]", or '' without one. */
export function intervalText(lower: number | null | undefined, upper: number | null | undefined, digits = 1): string {
  return lower === null || lower === undefined || upper === null || upper === undefined ? '' : `[${percent(lower, digits)}, ${percent(upper, digits)}]`;
}

/** A p-value as papers print it: "p < 0.001", "p = 0.245". */
export function pValueText(p: number): string {
  return p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`;
}

/** A 95 % rank interval: "3–4", or "3" when it is one rank. */
export function rankIntervalText(interval: { readonly lower: number; readonly upper: number } | null | undefined): string {
  if (!interval) return '';
  return interval.lower === interval.upper ? String(interval.lower) : `${interval.lower}–${interval.upper}`;
}

/** "1,487 of 1,487" images predicted. */
export function coverageText(predicted: number, images: number): string {
  const f = new Intl.NumberFormat('en-US');
  return `${f.format(predicted)} of ${f.format(images)}`;
}

/** Why a row has no rank, for the 'partial' badge. */
export function partialReason(predicted: number, images: number): string {
  return `Not ranked: it predicted ${coverageText(predicted, images)} graded images of this scope, and only entries that ` +
    'predicted every one are ranked. Its numbers are computed on the images it predicted.';
}

/**
 * For each shown row but the last: whether it and the row shown after it are adjacent in rank and their difference is
 * not significant (either row's versusNext names the other). Sorting or filtering breaks adjacency, and the mark goes.
 */
export function notSignificantWithNext(rows: readonly BoardRow[]): boolean[] {
  return rows.map((row, i) => {
    const next = rows[i + 1];
    if (!next) return false;
    const pair = row.versusNext?.next === next.slug ? row.versusNext : next.versusNext?.next === row.slug ? next.versusNext : null;
    return pair ? !pair.significant : false;
  });
}

/** The entries picked for a comparison: a click adds (the oldest goes beyond `max`) or removes. */
export function togglePick(picked: readonly string[], slug: string, max = 2): string[] {
  if (picked.includes(slug)) return picked.filter((s) => s !== slug);
  return [...picked, slug].slice(-max);
}

/** Kendall's tau to two decimals, '–' when undefined (a ranking with every value tied). */
export function tauText(tau: number | null | undefined): string {
  return tau === null || tau === undefined ? '–' : tau.toFixed(2);
}

export interface ImageSetInfo {
  readonly name: string;
  readonly images: number;
  readonly description: string;
}

export interface ScopeOption {
  /** '' asks for the dataset's default scope; 'all' for every image; else an image set's name. */
  readonly value: string;
  readonly text: string;
  readonly title: string;
}

/**
 * The choices of the scope control: the dataset's default, every image, and each image set. A selected set the list
 * does not have (it could not be loaded) is kept so the control still shows it.
 */
export function scopeOptions(sets: readonly ImageSetInfo[] | null, selected: string): ScopeOption[] {
  const f = new Intl.NumberFormat('en-US');
  const options: ScopeOption[] = [
    { value: '', text: 'default scope', title: "The dataset's 'annotated' image set when it has one, else every image." },
    { value: 'all', text: 'every image', title: 'Every image of the dataset (and of its shifted dataset).' },
    ...(sets ?? []).filter((s) => s.name !== 'all').map((s) => ({
      value: s.name,
      text: `${s.name} (${f.format(s.images)} ${s.images === 1 ? 'image' : 'images'})`,
      title: s.description,
    })),
  ];
  if (!options.some((o) => o.value === selected)) options.push({ value: selected, text: selected, title: '' });
  return options;
}
