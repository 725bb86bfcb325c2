/**
 * Which columns the leaderboard shows for the subset chosen, and the CSV of the view as shown. With every image ('all')
 * the table breaks the headline down by subset, one column each; with one subset chosen every figure of the row is
 * already on that subset's images, so the other subsets' columns go (they would read as unaffected by the choice) and
 * the caption and the tooltips say which images the figures cover. Pure: the table, the CSV and the sort use it alike.
 */
import { sortValue, type BoardRow, type SortKey } from './leaderboard';

export const ALL_SUBSET = 'all';

export interface SubsetColumn {
  readonly subset: string;
  readonly key: SortKey;
  readonly label: string;
  readonly title: string;
}

/** "organisms" -> "Organisms", "big-cats" -> "Big cats". */
export function subsetLabel(subset: string): string {
  const words = subset.replace(/[-_]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The per-subset breakdown columns: one per subset of the dataset with every image chosen, none with one subset chosen. */
export function subsetColumns(subsets: readonly string[], chosen: string): SubsetColumn[] {
  if (chosen !== ALL_SUBSET) return [];
  return subsets.filter((s) => s !== ALL_SUBSET).map((s) => ({
    subset: s,
    key: `subset:${s}` as SortKey,
    label: subsetLabel(s),
    title: `The board's metric on the images of the subset '${s}' only (images whose original class is in it)`,
  }));
}

/** Which images the figures of a row cover, for the caption above the table. */
export function subsetCaption(chosen: string, graded: number, imageSet: string | null): string {
  const count = new Intl.NumberFormat('en-US').format(graded);
  const scope = imageSet === null ? 'every image' : `the image set '${imageSet}'`;
  return chosen === ALL_SUBSET
    ? `Every figure is on the ${count} graded images of ${scope}; the subset columns break the headline down by subset.`
    : `Subset '${chosen}': every figure (the shifted ones too) is on the ${count} graded images of ${scope} whose original class ` +
      `is in '${chosen}'. The other subsets are not shown; choose 'all' for the breakdown.`;
}

/** A main column's tooltip, saying which images its figure covers when a subset is chosen. */
export function columnTitle(title: string, chosen: string): string {
  return chosen === ALL_SUBSET ? title : `${title}. On the subset '${chosen}' only.`;
}

/** The sort in force: a subset column that is not shown sorts nothing, so the rank order stands in for it. */
export function shownSort(sort: SortKey, columns: readonly SubsetColumn[]): SortKey {
  return sort.startsWith('subset:') && !columns.some((c) => c.key === sort) ? 'rank' : sort;
}

/** The row fields the CSV needs beyond the table's; the API's LeaderboardRow satisfies it. */
export interface CsvRow extends BoardRow {
  readonly rankInterval?: { readonly lower: number; readonly upper: number } | null;
  readonly predicted: number;
  readonly images: number;
  readonly multiLabel: BoardRow['multiLabel'] & {
    readonly lower?: number | null;
    readonly upper?: number | null;
    readonly boundLower?: number | null;
    readonly boundUpper?: number | null;
  };
  readonly provisional: boolean;
}

export interface CsvView {
  readonly dataset: string;
  readonly subset: string;
  readonly imageSet: string | null;
  readonly labelVersion: number;
  readonly columns: readonly SubsetColumn[];
}

/** A text cell as a spreadsheet reads it safely: quoted when needed, a leading formula character defused (as the API does). */
export function csvText(text: string): string {
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

const number = (value: number | null | undefined): string =>
  value === null || value === undefined ? '' : String(Math.round(value * 1e6) / 1e6);

/** The rows as shown (filtered and sorted), with the columns shown, and the dataset, subset and scope on every line. */
export function boardCsv(rows: readonly CsvRow[], view: CsvView): string {
  const header = [
    'rank', 'rank_lower', 'rank_upper', 'model', 'display_name', 'kind', 'dataset', 'subset', 'image_set', 'label_version',
    'multilabel', 'multilabel_lower', 'multilabel_upper', 'versus_next_p', 'versus_next_significant', 'decided_only',
    'bound_lower', 'bound_upper', 'top1', 'top5', ...view.columns.map((c) => `subset_${c.subset}`),
    'shifted', 'drop', 'effective_robustness', 'predicted', 'images', 'pending', 'provisional',
  ];
  const lines = rows.map((r) => {
    const ml = r.multiLabel;
    return [
      r.rank === null ? '' : String(r.rank), r.rankInterval ? String(r.rankInterval.lower) : '', r.rankInterval ? String(r.rankInterval.upper) : '',
      csvText(r.slug), csvText(r.displayName), csvText(r.kind), csvText(view.dataset), csvText(view.subset), csvText(view.imageSet ?? ''),
      String(view.labelVersion),
      number(r.value), number(ml.lower), number(ml.upper), number(r.versusNext?.pValue), r.versusNext ? String(r.versusNext.significant) : '',
      number(ml.decidedOnly), number(ml.boundLower), number(ml.boundUpper), number(r.top1.value), number(r.top5?.value),
      ...view.columns.map((c) => number(sortValue(r, c.key) as number | null)),
      number(r.shift?.value), number(r.shift?.drop), number(r.shift?.effectiveRobustness),
      String(r.predicted), String(r.images), String(ml.pending), String(r.provisional),
    ].join(',');
  });
  return [header.join(','), ...lines].join('\n') + '\n';
}

/** The CSV's file name: the dataset, subset and label version it holds. */
export function boardCsvName(view: CsvView): string {
  const part = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '-');
  return `relabel-${part(view.dataset)}-${part(view.subset)}` + (view.imageSet ? `-${part(view.imageSet)}` : '') + `-v${view.labelVersion}.csv`;
}
