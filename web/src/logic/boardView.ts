/**
 * The leaderboard's view as an address: every control (dataset, subset, image set, label version, definition, fit, sort, filter,
 * kinds shown, rows picked) is a query parameter, and a default is left out, so that a shared link or back/forward
 * restores the same view. Pure: parse and build only.
 */
import { isFitSpace, type FitSpace } from './shiftPlot';
import type { SortKey } from './leaderboard';
import type { FitGroup } from './routes';

export const BOARD_KINDS = ['model', 'model-extra-data', 'human', 'ensemble'] as const;

export interface BoardView {
  /** Null: the server's default board (the featured dataset, else the one with the most entries). */
  readonly dataset: string | null;
  readonly subset: string;
  /** '' for the dataset's default scope, 'all' for every image, else an image set's name. */
  readonly imageSet: string;
  /** Null: the current label version; else an earlier one (0 to the current). */
  readonly version: number | null;
  readonly average: 'micro' | 'per-class';
  readonly unclear: 'wrong' | 'correct';
  readonly fit: FitSpace;
  readonly fitOn: FitGroup;
  readonly sort: SortKey;
  readonly descending: boolean;
  readonly text: string;
  /** The kinds of entries shown, in BOARD_KINDS order. */
  readonly kinds: readonly string[];
  readonly picked: readonly string[];
}

export const DEFAULT_BOARD_VIEW: BoardView = {
  dataset: null, subset: 'all', imageSet: '', version: null, average: 'micro', unclear: 'wrong', fit: 'logit', fitOn: 'model',
  sort: 'rank', descending: false, text: '', kinds: BOARD_KINDS, picked: [],
};

const FIXED_SORTS: readonly string[] = [
  'rank', 'name', 'kind', 'top1', 'top5', 'multilabel', 'decided-only', 'shifted', 'drop', 'robustness', 'pending', 'coverage',
];

function isSortKey(value: string): value is SortKey {
  return FIXED_SORTS.includes(value) || (value.startsWith('subset:') && value.length > 'subset:'.length);
}

/** The direction a column sorts in when first chosen: names and ranks up, numbers down. */
export function defaultDescending(key: SortKey): boolean {
  return !['rank', 'name', 'kind'].includes(key);
}

/** The view a query string names; anything unknown or malformed falls back to its default. */
export function parseBoardView(search: string): BoardView {
  const p = new URLSearchParams(search);
  const fit = p.get('fit');
  const sortParam = p.get('sort') ?? '';
  const sort: SortKey = isSortKey(sortParam) ? sortParam : 'rank';
  const direction = p.get('dir');
  const kindsParam = p.get('kinds');
  const kinds = kindsParam === null ? BOARD_KINDS : BOARD_KINDS.filter((k) => kindsParam.split(',').includes(k));
  return {
    dataset: p.get('dataset') || null,
    subset: p.get('subset') || 'all',
    imageSet: p.get('imageSet') ?? '',
    version: /^(0|[1-9][0-9]{0,9})$/.test(p.get('version') ?? '') ? Number(p.get('version')) : null,
    average: p.get('average') === 'per-class' ? 'per-class' : 'micro',
    unclear: p.get('unclear') === 'correct' ? 'correct' : 'wrong',
    fit: isFitSpace(fit) ? fit : 'logit',
    fitOn: p.get('fitOn') === 'non-human' ? 'non-human' : 'model',
    sort,
    descending: direction === 'desc' ? true : direction === 'asc' ? false : defaultDescending(sort),
    text: p.get('q') ?? '',
    kinds,
    picked: (p.get('pick') ?? '').split(',').filter((s) => s !== '').slice(0, 2),
  };
}

/** The address of a view: "/leaderboard" plus the parameters that differ from the defaults, in a fixed order. */
export function boardViewHref(view: BoardView): string {
  const p = new URLSearchParams();
  if (view.dataset) p.set('dataset', view.dataset);
  if (view.subset !== 'all') p.set('subset', view.subset);
  if (view.imageSet !== '') p.set('imageSet', view.imageSet);
  if (view.version !== null) p.set('version', String(view.version));
  if (view.average !== 'micro') p.set('average', view.average);
  if (view.unclear !== 'wrong') p.set('unclear', view.unclear);
  if (view.fit !== 'logit') p.set('fit', view.fit);
  if (view.fitOn !== 'model') p.set('fitOn', view.fitOn);
  if (view.sort !== 'rank') p.set('sort', view.sort);
  if (view.descending !== defaultDescending(view.sort)) p.set('dir', view.descending ? 'desc' : 'asc');
  if (view.text.trim() !== '') p.set('q', view.text);
  const kinds = BOARD_KINDS.filter((k) => view.kinds.includes(k));
  if (kinds.length !== BOARD_KINDS.length) p.set('kinds', kinds.join(','));
  if (view.picked.length > 0) p.set('pick', view.picked.join(','));
  const query = p.toString();
  return '/leaderboard' + (query ? `?${query}` : '');
}
