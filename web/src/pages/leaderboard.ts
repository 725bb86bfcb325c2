/**
 * "/" and "/leaderboard": the public multi-label leaderboard. A sortable, filterable table of every entry with its
 * interval, subsets, shift and coverage; toggles for the definition; the original-vs-shifted scatter plot.
 */
import { api, isAbortError, toProblem } from '../api/client';
import type { Dataset, Leaderboard, LeaderboardRow } from '../api/types';
import { childController, el, setHidden, setText } from '../components/dom';
import { mountProblemBox } from '../components/problemBox';
import { mountScatterPlot, type ScatterPoint } from '../components/scatterPlot';
import { filterRows, percent, sortRows, type SortKey } from '../logic/leaderboard';
import { hrefs } from '../logic/routes';
import type { PageContext } from '../pageContext';

interface State {
  dataset: string | null;
  subset: string;
  /** An image set every entry is graded on (humans-labeled, humans-fast), or '' for all images. */
  imageSet: string;
  average: 'micro' | 'per-class';
  unclear: 'wrong' | 'correct';
  sort: SortKey;
  descending: boolean;
  text: string;
  kinds: Set<string>;
}

const KINDS = ['model', 'model-extra-data', 'human', 'ensemble'];
const SUBSET_COLUMNS = ['objects', 'organisms', 'dogs'];

function radio(name: string, value: string, label: string, checked: boolean, onChange: () => void): HTMLLabelElement {
  const input = el('input', { attrs: { type: 'radio', name, value }, testid: `${name}-${value}` });
  input.checked = checked;
  input.addEventListener('change', onChange);
  return el('label', { class: 'toggle' }, input, ` ${label}`);
}

export function mountLeaderboardPage(root: HTMLElement, ctx: PageContext): void {
  ctx.setTitle('Leaderboard');
  const state: State = {
    dataset: null, subset: 'all', imageSet: '', average: 'micro', unclear: 'wrong', sort: 'rank', descending: false, text: '', kinds: new Set(KINDS),
  };
  let board: Leaderboard | null = null;

  const datasetSelect = el('select', { testid: 'board-dataset' });
  const subsetSelect = el('select', { testid: 'board-subset' });
  const imageSetSelect = el('select', { testid: 'board-image-set' },
    el('option', { text: 'all images', attrs: { value: '' } }),
    el('option', { text: 'images labeled by humans', attrs: { value: 'humans-labeled' } }),
    el('option', { text: 'fast images (humans under 60 s)', attrs: { value: 'humans-fast' } }));
  const search = el('input', { attrs: { type: 'search', placeholder: 'Filter models' }, testid: 'board-filter' });
  const kindBoxes = KINDS.map((kind) => {
    const box = el('input', { attrs: { type: 'checkbox' }, testid: `kind-${kind}` });
    box.checked = true;
    box.addEventListener('change', () => {
      if (box.checked) state.kinds.add(kind);
      else state.kinds.delete(kind);
      render();
    });
    return el('label', { class: 'toggle' }, box, ` ${kind}`);
  });
  const definition = el('fieldset', { class: 'definition' },
    el('legend', { text: 'Multi-label accuracy' }),
    radio('unclear', 'wrong', "strict ('unclear' is wrong)", true, () => { state.unclear = 'wrong'; void load(); }),
    radio('unclear', 'correct', "lenient ('unclear' is correct)", false, () => { state.unclear = 'correct'; void load(); }),
    radio('average', 'micro', 'mean over images', true, () => { state.average = 'micro'; void load(); }),
    radio('average', 'per-class', 'mean over classes', false, () => { state.average = 'per-class'; void load(); }),
  );
  const version = el('p', { class: 'label-version', testid: 'label-version' });
  const status = el('p', { class: 'status', testid: 'board-status' });
  const problem = mountProblemBox(root);
  const head = el('tr');
  const body = el('tbody', { testid: 'board-rows' });
  const table = el('table', { class: 'leaderboard', testid: 'leaderboard' }, el('thead', {}, head), body);
  const hover = el('p', { class: 'hover', testid: 'scatter-hover', text: 'Hover a mark to see the model.' });
  const plotBox = el('section', { class: 'plot' }, el('h2', { text: 'Original vs shifted dataset' }));
  const plot = mountScatterPlot(plotBox, (p: ScatterPoint | null) =>
    setText(hover, p ? `${p.name} (${p.kind}): ${percent(p.x)} % → ${percent(p.y)} %` : 'Hover a mark to see the model.'));
  plotBox.append(hover);
  const howTo = el('details', { class: 'how' }, el('summary', { text: 'How is this computed?' }));
  const howText = el('p', { testid: 'definition-text' });
  howTo.append(howText);
  const hardLink = el('a', { text: 'Images everyone gets wrong', testid: 'hard-images-link' });

  root.append(
    el('h1', { text: 'Leaderboard' }),
    el('div', { class: 'controls' }, el('label', {}, 'Dataset ', datasetSelect), el('label', {}, ' Subset ', subsetSelect), el('label', {}, ' Images ', imageSetSelect), search, ...kindBoxes),
    definition, version, status, table, howTo, plotBox, el('p', {}, hardLink),
  );

  datasetSelect.addEventListener('change', () => { state.dataset = datasetSelect.value; state.subset = 'all'; state.imageSet = ''; imageSetSelect.value = ''; void load(); });
  imageSetSelect.addEventListener('change', () => { state.imageSet = imageSetSelect.value; void load(); });
  subsetSelect.addEventListener('change', () => { state.subset = subsetSelect.value; void load(); });
  search.addEventListener('input', () => { state.text = search.value; render(); });

  function header(label: string, key: SortKey): HTMLTableCellElement {
    const button = el('button', { class: 'sort', text: label, attrs: { type: 'button', 'data-sort': key } });
    button.addEventListener('click', () => {
      if (state.sort === key) state.descending = !state.descending;
      else { state.sort = key; state.descending = !['rank', 'name', 'kind'].includes(key); }
      render();
    });
    return el('th', {}, button);
  }

  function cell(text: string, testid?: string): HTMLTableCellElement {
    return el('td', testid ? { text, testid } : { text });
  }

  function renderRow(row: LeaderboardRow, dataset: string): HTMLTableRowElement {
    const ml = row.multiLabel;
    const interval = ml.lower !== null && ml.lower !== undefined ? ` [${percent(ml.lower, 1)}, ${percent(ml.upper, 1)}]` : '';
    const coverage = el('td', { testid: 'coverage' }, `${ml.decided} decided, ${ml.pending} pending`);
    if (row.provisional) coverage.append(' ', el('span', { class: 'badge provisional', text: 'provisional', testid: 'provisional' }));
    const subsets = SUBSET_COLUMNS.map((s) => cell(percent(row.subsets.find((x) => x.subset === s)?.multiLabel.value)));
    const tr = el('tr', { attrs: { 'data-slug': row.slug, 'data-kind': row.kind } },
      cell(String(row.rank)),
      el('td', {}, el('a', { text: row.displayName, attrs: { href: hrefs.model(row.slug, dataset) } })),
      cell(row.kind),
      cell(percent(row.top1.value), 'top1'),
      cell(percent(row.top5?.value)),
      el('td', { testid: 'multilabel' }, percent(ml.value), el('small', { text: interval })),
      ...subsets,
      cell(percent(row.shift?.value)),
      cell(row.shift?.drop === null || row.shift?.drop === undefined ? '–' : percent(row.shift.drop)),
      coverage,
    );
    return tr;
  }

  function render(): void {
    if (!board) return;
    const shiftName = board.shiftedDataset ?? 'shifted';
    head.replaceChildren(
      header('#', 'rank'), header('Model', 'name'), header('Kind', 'kind'), header('Top-1', 'top1'), header('Top-5', 'top5'),
      header('Multi-label', 'multilabel'), ...SUBSET_COLUMNS.map((s) => header(s, `subset:${s}`)),
      header(shiftName, 'shifted'), header('Drop', 'drop'), header('Coverage', 'pending'),
    );
    const rows = sortRows(filterRows(board.rows, state.text, state.kinds), state.sort, state.descending);
    body.replaceChildren(...rows.map((r) => renderRow(r, board!.dataset)));
    setText(status, `${rows.length} of ${board.rows.length} entries`);
  }

  function show(next: Leaderboard): void {
    board = next;
    subsetSelect.replaceChildren(...next.subsets.map((s) => el('option', { text: s, attrs: { value: s } })));
    subsetSelect.value = next.subset;
    setText(version, `Label version ${next.labelVersion}` + (next.labelVersion !== next.currentLabelVersion ? ` (current: ${next.currentLabelVersion})` : '') +
      ` · ${next.images} images · ${next.average === 'micro' ? 'mean over images' : 'mean over classes'}, 'unclear' counts ${next.unclear}`);
    setText(howText, next.definition);
    hardLink.setAttribute('href', hrefs.hardImages(next.dataset));
    setHidden(plotBox, next.shiftedDataset === null || next.shiftedDataset === undefined);
    const points: ScatterPoint[] = next.rows
      .filter((r) => r.multiLabel.value !== null && r.multiLabel.value !== undefined && r.shift?.value !== null && r.shift?.value !== undefined)
      .map((r) => ({
        slug: r.slug, name: r.displayName, kind: r.kind, x: r.multiLabel.value!, y: r.shift!.value!,
        xLow: r.multiLabel.lower ?? null, xHigh: r.multiLabel.upper ?? null, yLow: r.shift!.lower ?? null, yHigh: r.shift!.upper ?? null,
      }));
    plot.update({ points, fit: next.fit ?? null, xLabel: `${next.dataset} multi-label accuracy (%)`, yLabel: `${next.shiftedDataset ?? ''} multi-label accuracy (%)` });
    render();
  }

  let inflight: AbortController | null = null;
  async function load(): Promise<void> {
    inflight?.abort();
    const controller = childController(ctx.signal);
    inflight = controller;
    problem.update(null);
    try {
      const query: Record<string, string> = { subset: state.subset, average: state.average, unclear: state.unclear };
      if (state.dataset) query['dataset'] = state.dataset;
      if (state.imageSet !== '') query['imageSet'] = state.imageSet;
      show(await api.get('/api/leaderboard', { query, signal: controller.signal }));
    } catch (error) {
      if (!isAbortError(error)) problem.update(toProblem(error));
    }
  }

  void (async () => {
    try {
      const datasets: Dataset[] = await api.get('/api/datasets', { signal: ctx.signal });
      const originals = datasets.filter((d) => !d.shiftOf);
      datasetSelect.replaceChildren(...originals.map((d) => el('option', { text: d.name, attrs: { value: d.slug } })));
      state.dataset = originals[0]?.slug ?? null;
      if (state.dataset) datasetSelect.value = state.dataset;
      await load();
    } catch (error) {
      if (!isAbortError(error)) problem.update(toProblem(error));
    }
  })();
}
