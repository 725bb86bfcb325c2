/**
 * The leaderboard's table: one keyed row per entry with the headline and its interval, the rank and its 95 % interval,
 * the test against the next ranked row (a 'n.s.' mark joins adjacent rows whose difference is not significant),
 * decided-only and the bounds, top-1/top-5, subsets, the shift, coverage, and a box to pick two rows to compare.
 * Sort buttons in the header and the pick boxes bubble up as events; the page owns the state.
 */
import type { LeaderboardRow } from '../api/types';
import { el, setAttr, setHidden, setText } from './dom';
import { mountKeyedList } from './keyedList';
import {
  coverageText, intervalText, notSignificantWithNext, partialReason, percent, pValueText, rankIntervalText, signedPercent,
  type SortKey,
} from '../logic/leaderboard';
import { hrefs } from '../logic/routes';
import { columnTitle, subsetCaption, type SubsetColumn } from '../logic/boardColumns';

/** Kinds as readers name them. */
export const KIND_NAMES: Readonly<Record<string, string>> = {
  model: 'Model',
  'model-extra-data': 'Model, extra data',
  human: 'Human',
  ensemble: 'Ensemble',
};
export const kindName = (kind: string): string => KIND_NAMES[kind] ?? kind;

export interface LeaderboardTableState {
  /** Sorted and filtered, as shown. */
  readonly rows: readonly LeaderboardRow[];
  readonly dataset: string;
  readonly shiftedDataset: string | null;
  readonly statisticsReady: boolean;
  readonly picked: readonly string[];
  readonly sort: SortKey;
  readonly descending: boolean;
  /** Display names by slug, for naming the next row in a test's explanation. */
  readonly names: ReadonlyMap<string, string>;
  /** The shifted dataset's display name, for its column. */
  readonly shiftedName?: string | null;
  /** The subset chosen ('all' for every image), and the breakdown columns it shows (logic/boardColumns). */
  readonly subset: string;
  readonly subsetColumns: readonly SubsetColumn[];
  /** Graded images of the scope and subset, and the scope's image set, for the caption. */
  readonly graded: number;
  readonly imageSet: string | null;
}

export interface LeaderboardTableEvents {
  onSort(key: SortKey): void;
  onPick(slug: string): void;
}

interface RowView {
  readonly row: LeaderboardRow;
  readonly dataset: string;
  readonly statisticsReady: boolean;
  readonly picked: boolean;
  readonly joinsNext: boolean;
  readonly nextName: string | null;
  readonly columns: readonly SubsetColumn[];
}

interface HeadCell {
  readonly th: HTMLTableCellElement;
  readonly key: SortKey | null;
  readonly title: string | null;
}

let tables = 0;

function methodName(method: string): string {
  return method === 'mcnemar' ? "McNemar's exact test" : method === 'bootstrap' ? 'paired bootstrap' : method;
}

export function mountLeaderboardTable(parent: HTMLElement, events: LeaderboardTableEvents): { update(state: LeaderboardTableState): void } {
  const headers: { label: string; key: SortKey | null; title?: string }[] = [
    { label: '#', key: 'rank', title: 'Rank by the headline among entries that predicted every graded image' },
    { label: 'Rank 95 %', key: null, title: 'The 95 % bootstrap interval of the rank' },
    { label: 'Model', key: 'name', title: 'The entry’s name; it opens the model’s page' },
    { label: 'Kind', key: 'kind', title: 'Model (ImageNet-1k only), model trained with extra data, human, or an ensemble' },
    { label: 'Multi-label', key: 'multilabel', title: 'The headline: a pending top-1 counts wrong; with its 95 % Clopper-Pearson interval' },
    { label: 'vs next', key: null, title: 'Is the difference to the next ranked row significant at 5 %? (same images)' },
    { label: 'Decided only', key: 'decided-only', title: 'Multi-label accuracy over decided images only (pending left out)' },
    { label: 'Bounds', key: null, title: 'Every pending top-1 counted wrong – every pending top-1 counted right' },
    { label: 'Top-1', key: 'top1', title: 'Top-1 accuracy against the original ImageNet label' },
    { label: 'Top-5', key: 'top5', title: 'Top-5 accuracy against the original ImageNet label' },
    { label: 'Shifted', key: 'shifted', title: 'Multi-label accuracy on the shifted dataset (the same classes, new images)' },
    { label: 'Drop', key: 'drop', title: 'Drop: original minus shifted multi-label accuracy, in points' },
    { label: 'Eff. rob.', key: 'robustness', title: 'Effective robustness: shifted accuracy minus the fit’s prediction, in points' },
    { label: 'Coverage', key: 'coverage', title: 'Graded images of the scope the entry predicted, and pending top-1s' },
    { label: 'Compare', key: null, title: 'Pick two rows to compare them on the same images' },
  ];
  function headCell(h: { label: string; key: SortKey | null; title?: string }): HeadCell {
    const th = el('th', { attrs: { scope: 'col', ...(h.title ? { title: h.title } : {}) } });
    if (h.key === null) th.textContent = h.label;
    else {
      const key = h.key;
      const button = el('button', { class: 'sort', attrs: { type: 'button', 'data-sort': key } },
        el('span', { class: 'sort-label', text: h.label }), el('span', { class: 'sort-arrow', attrs: { 'aria-hidden': 'true' } }));
      button.addEventListener('click', () => events.onSort(key));
      th.append(button);
    }
    return { th, key: h.key, title: h.title ?? null };
  }
  const headCells = headers.map(headCell);
  const shiftedHeader = headCells.find((c) => c.key === 'shifted')!;
  headCells.find((c) => c.key === 'name')!.th.classList.add('model-cell');
  // The breakdown columns go before the shifted one; they change with the dataset's subsets and the subset chosen.
  let subsetHeads: HeadCell[] = [];
  let subsetKey = '';
  const headRow = el('tr', {}, ...headCells.map((c) => c.th));
  const body = el('tbody', { testid: 'board-rows' });
  const caption = el('p', { class: 'board-caption', testid: 'board-caption', attrs: { id: `board-caption-${++tables}` } });
  const table = el('table', { class: 'leaderboard', testid: 'leaderboard', attrs: { 'aria-describedby': caption.id } }, el('thead', {}, headRow), body);
  parent.append(caption, el('div', { class: 'table-scroll' }, table));

  const rows = mountKeyedList<RowView>(body, (v) => v.row.slug, (first) => {
    const rank = el('td', { testid: 'rank', class: 'number' });
    const rankInterval = el('td', { testid: 'rank-interval', class: 'number' });
    const name = el('a');
    const partial = el('span', { class: 'badge partial', text: 'partial', testid: 'partial' });
    const kind = el('td');
    const headline = el('span', { class: 'value' });
    const headlineInterval = el('small', { class: 'interval' });
    const pValue = el('small', { class: 'p-value' });
    const notSignificant = el('span', { class: 'badge not-significant', text: 'n.s.', testid: 'not-significant' });
    const versus = el('td', { testid: 'versus-next' }, pValue, notSignificant);
    const decidedOnly = el('td', { testid: 'decided-only', class: 'number' });
    const bounds = el('td', { testid: 'bounds', class: 'number' });
    const top1 = el('td', { testid: 'top1', class: 'number' });
    const top5 = el('td', { class: 'number' });
    let subsets: HTMLTableCellElement[] = [];
    let columnsKey = '';
    const shifted = el('td', { class: 'number' });
    const drop = el('td', { class: 'number' });
    const robustness = el('td', { testid: 'robustness', class: 'number' });
    const covered = el('span');
    const pending = el('span', { class: 'pending' });
    const provisional = el('span', { class: 'badge provisional', text: 'provisional', testid: 'provisional' });
    const pick = el('input', { attrs: { type: 'checkbox' }, testid: 'compare-pick' });
    pick.addEventListener('change', () => events.onPick(first.row.slug));
    const tr = el('tr', { attrs: { 'data-slug': first.row.slug, 'data-kind': first.row.kind } },
      rank, rankInterval,
      el('td', { class: 'model-cell' }, name, ' ', partial), kind,
      el('td', { testid: 'multilabel', class: 'number' }, headline, ' ', headlineInterval),
      versus, decidedOnly, bounds, top1, top5, shifted, drop, robustness,
      el('td', { testid: 'coverage' }, covered, pending, ' ', provisional),
      el('td', {}, el('label', { class: 'pick' }, pick, el('span', { class: 'visually-hidden', text: `Compare ${first.row.displayName}` }))));

    return {
      el: tr,
      update(v) {
        const r = v.row;
        const ml = r.multiLabel;
        tr.classList.toggle('unranked', r.rank === null);
        tr.classList.toggle('ns-next', v.joinsNext);
        tr.classList.toggle('kind-human', r.kind === 'human');
        tr.classList.toggle('picked', v.picked);
        setText(rank, r.rank === null ? '–' : String(r.rank));
        setText(rankInterval, r.rank === null ? '' : v.statisticsReady ? rankIntervalText(r.rankInterval ?? null) : '…');
        setText(name, r.displayName);
        setAttr(name, 'href', hrefs.model(r.slug, v.dataset));
        setHidden(partial, r.complete);
        setAttr(partial, 'title', r.complete ? null : partialReason(r.predicted, r.images));
        setText(kind, kindName(r.kind));
        setText(headline, percent(r.value));
        setText(headlineInterval, intervalText(ml.lower, ml.upper));

        // Against the next ranked row (named in the title): its p-value, or the 'n.s.' mark when not significant.
        const next = r.versusNext ?? null;
        const what = next ? `${v.nextName ?? next.next} at 5 % (${methodName(next.method)}, ${pValueText(next.pValue)})` : '';
        setHidden(pValue, !next?.significant);
        setText(pValue, next?.significant ? pValueText(next.pValue) : '');
        setAttr(pValue, 'title', next?.significant ? `Significantly different from ${what}` : null);
        setHidden(notSignificant, !next || next.significant);
        setAttr(notSignificant, 'title', next && !next.significant ? `Not significantly different from ${what}` : null);
        setAttr(notSignificant, 'data-p', next ? String(next.pValue) : null);
        setText(decidedOnly, percent(ml.decidedOnly));
        setText(bounds, ml.boundLower === null || ml.boundLower === undefined ? '–' : `${percent(ml.boundLower, 1)} – ${percent(ml.boundUpper, 1)}`);
        setText(top1, percent(r.top1.value));
        setText(top5, percent(r.top5?.value));
        const key = v.columns.map((c) => c.subset).join(',');
        if (key !== columnsKey) {
          columnsKey = key;
          subsets.forEach((td) => td.remove());
          subsets = v.columns.map((c) => el('td', { class: 'number', attrs: { 'data-subset': c.subset } }));
          shifted.before(...subsets);
        }
        v.columns.forEach((c, i) => setText(subsets[i]!, percent(r.subsets.find((x) => x.subset === c.subset)?.value)));
        setText(shifted, percent(r.shift?.value));
        setText(drop, percent(r.shift?.drop));
        setText(robustness, signedPercent(r.shift?.effectiveRobustness));
        setText(covered, coverageText(r.predicted, r.images));
        setText(pending, ml.pending > 0 ? ` · ${ml.pending} pending` : '');
        setHidden(provisional, !r.provisional);
        // The badge says why the number may still move, and between which bounds.
        setAttr(provisional, 'title', r.provisional
          ? `Provisional: ${ml.pending} top-1 ${ml.pending === 1 ? 'label is' : 'labels are'} not reviewed yet. ` +
            `Counted wrong (the headline) it is ${percent(ml.boundLower)} %; counted right, ${percent(ml.boundUpper)} %.`
          : null);
        pick.checked = v.picked;
      },
    };
  });

  return {
    update(state) {
      setText(shiftedHeader.th.querySelector('.sort-label')!, state.shiftedName ?? state.shiftedDataset ?? 'Shifted');
      const key = state.subsetColumns.map((c) => c.subset).join(',');
      if (key !== subsetKey) {
        subsetKey = key;
        subsetHeads.forEach((c) => c.th.remove());
        subsetHeads = state.subsetColumns.map((c) => headCell(c));
        shiftedHeader.th.before(...subsetHeads.map((c) => c.th));
      }
      setText(caption, subsetCaption(state.subset, state.graded, state.imageSet));
      // With one subset chosen, every figure's tooltip names it.
      for (const c of headCells) if (c.title !== null && c.key !== 'name' && c.key !== 'kind' && c.key !== null) setAttr(c.th, 'title', columnTitle(c.title, state.subset));
      for (const c of [...headCells, ...subsetHeads]) {
        const sorted = c.key !== null && c.key === state.sort;
        setAttr(c.th, 'aria-sort', sorted ? (state.descending ? 'descending' : 'ascending') : null);
        const arrow = c.th.querySelector('.sort-arrow');
        if (arrow) setText(arrow as HTMLElement, sorted ? (state.descending ? ' ▼' : ' ▲') : '');
      }
      const joins = notSignificantWithNext(state.rows);
      rows.update(state.rows.map((row, i) => ({
        row,
        dataset: state.dataset,
        statisticsReady: state.statisticsReady,
        picked: state.picked.includes(row.slug),
        joinsNext: joins[i] ?? false,
        nextName: row.versusNext ? state.names.get(row.versusNext.next) ?? null : null,
        columns: state.subsetColumns,
      })));
    },
  };
}
