/**
 * "/" and "/leaderboard": the public multi-label leaderboard as evidence. Every entry graded on the same images (the
 * scope), ranked by the paper's headline with rank intervals and a mark where adjacent rows do not differ
 * significantly, the definition's toggles, the shift fit in the chosen space, how much the ranking depends on the
 * definition, and two rows picked for a paired comparison. The rank intervals come after the first answer: the page
 * says so and asks again (wait=true) until they are in.
 */
import { api, isAbortError, toProblem } from '../api/client';
import type { Dataset, ImageSet, Leaderboard, LeaderboardRow } from '../api/types';
import { childController, el, setHidden, setHref, setText } from '../components/dom';
import { mountFitControls } from '../components/fitControls';
import { mountComparePicks } from '../components/comparePicks';
import { mountKeyedList } from '../components/keyedList';
import { mountLeaderboardTable } from '../components/leaderboardTable';
import { mountProblemBox } from '../components/problemBox';
import { mountScatterPlot, type ScatterPoint } from '../components/scatterPlot';
import { mountScopeNotes } from '../components/scopeNotes';
import { fetchImageSets, mountScopePicker } from '../components/scopePicker';
import { mountSensitivityTable } from '../components/sensitivityTable';
import { formatCount } from '../logic/format';
import { filterRows, percent, signedPercent, sortRows, togglePick, type SortKey } from '../logic/leaderboard';
import type { Problem } from '../logic/problem';
import { hrefs, type FitGroup } from '../logic/routes';
import { bandMiddle, describeFit, isFitSpace, type FitSpace } from '../logic/shiftPlot';
import type { PageContext } from '../pageContext';

interface State {
  dataset: string | null;
  subset: string;
  /** '' for the dataset's default scope, 'all' for every image, else an image set's name. */
  imageSet: string;
  average: 'micro' | 'per-class';
  unclear: 'wrong' | 'correct';
  fit: FitSpace;
  fitOn: FitGroup;
  sort: SortKey;
  descending: boolean;
  text: string;
  kinds: Set<string>;
  picked: string[];
  board: Leaderboard | null;
  sets: ImageSet[] | null;
  setsError: string | null;
  loading: boolean;
  problem: Problem | null;
}

const KINDS = ['model', 'model-extra-data', 'human', 'ensemble'];
/** How long to wait before asking again when a wait=true answer still says 'computing' (the server waited up to 60 s). */
const POLL_MS = 1500;

function radio(name: string, value: string, label: string, checked: boolean, onChange: () => void): HTMLLabelElement {
  const input = el('input', { attrs: { type: 'radio', name, value }, testid: `${name}-${value}` });
  input.checked = checked;
  input.addEventListener('change', onChange);
  return el('label', { class: 'toggle' }, input, ` ${label}`);
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(timer); reject(new DOMException('Left the page.', 'AbortError')); }, { once: true });
  });
}

export function mountLeaderboardPage(root: HTMLElement, ctx: PageContext): void {
  ctx.setTitle('Leaderboard');
  const state: State = {
    dataset: null, subset: 'all', imageSet: '', average: 'micro', unclear: 'wrong', fit: 'logit', fitOn: 'model',
    sort: 'rank', descending: false, text: '', kinds: new Set(KINDS), picked: [],
    board: null, sets: null, setsError: null, loading: true, problem: null,
  };

  // --- Markup, built once -------------------------------------------------------------------------
  const datasetSelect = el('select', { testid: 'board-dataset' });
  const subsetSelect = el('select', { testid: 'board-subset' });
  const subsetOptions = mountKeyedList<string>(subsetSelect, (s) => s, (s) => ({ el: el('option', { text: s, attrs: { value: s } }), update() {} }));
  const search = el('input', { attrs: { type: 'search', placeholder: 'Filter models', 'aria-label': 'Filter models' }, testid: 'board-filter' });
  const kindBoxes = KINDS.map((kind) => {
    const box = el('input', { attrs: { type: 'checkbox' }, testid: `kind-${kind}` });
    box.checked = true;
    box.addEventListener('change', () => {
      if (box.checked) state.kinds.add(kind);
      else state.kinds.delete(kind);
      update();
    });
    return el('label', { class: 'toggle' }, box, ` ${kind}`);
  });
  const controls = el('div', { class: 'controls' }, el('label', { class: 'field' }, 'Dataset ', datasetSelect), el('label', { class: 'field' }, 'Subset ', subsetSelect));
  const scopePicker = mountScopePicker(controls, { onChange: (value) => { state.imageSet = value; state.picked = []; void load(); } });
  controls.append(search, ...kindBoxes);

  const definition = el('fieldset', { class: 'definition' },
    el('legend', { text: 'Multi-label accuracy' }),
    radio('unclear', 'wrong', "strict ('unclear' is wrong)", true, () => { state.unclear = 'wrong'; void load(); }),
    radio('unclear', 'correct', "lenient ('unclear' is correct)", false, () => { state.unclear = 'correct'; void load(); }),
    radio('average', 'micro', 'mean over images', true, () => { state.average = 'micro'; void load(); }),
    radio('average', 'per-class', 'mean over classes', false, () => { state.average = 'per-class'; void load(); }),
  );

  const scopeBox = el('div');
  const scopeNotes = mountScopeNotes(scopeBox);

  const version = el('p', { class: 'label-version', testid: 'label-version' });
  const status = el('p', { class: 'status', testid: 'board-status', attrs: { 'aria-live': 'polite' } });
  const statistics = el('p', { class: 'statistics-status', testid: 'statistics-status', attrs: { 'aria-live': 'polite' } });
  const problemBox = el('div');
  const problem = mountProblemBox(problemBox);

  const compareBar = el('div');
  const comparePicks = mountComparePicks(compareBar, { onClear() { state.picked = []; update(); } });

  const tableBox = el('div');
  const table = mountLeaderboardTable(tableBox, {
    onSort(key) {
      if (state.sort === key) state.descending = !state.descending;
      else { state.sort = key; state.descending = !['rank', 'name', 'kind'].includes(key); }
      update();
    },
    onPick(slug) {
      state.picked = togglePick(state.picked, slug);
      update();
    },
  });

  const howTo = el('details', { class: 'how' }, el('summary', { text: 'How is this computed?' }));
  const howText = el('p', { testid: 'definition-text' });
  const statisticsText = el('p');
  howTo.append(howText, statisticsText);

  const plotBox = el('section', { class: 'plot' }, el('h2', { text: 'Original vs shifted dataset' }));
  const fitControls = mountFitControls(plotBox, {
    onSpace(space) { state.fit = space; void load(); },
    onGroup(on) { state.fitOn = on; void load(); },
  });
  const hover = el('p', { class: 'hover', testid: 'scatter-hover', text: 'Hover a mark to see the model.' });
  const plot = mountScatterPlot(plotBox, (p: ScatterPoint | null) =>
    setText(hover, p ? `${p.name} (${p.kind}): ${percent(p.x)} % → ${percent(p.y)} %` +
      (p.robustness === null || p.robustness === undefined ? '' : `, effective robustness ${signedPercent(p.robustness)} points`) : 'Hover a mark to see the model.'));
  plotBox.append(hover);

  const sensitivityBox = el('section', { class: 'sensitivity-box' }, el('h2', { text: 'Does the ranking depend on the definition?' }));
  const sensitivity = mountSensitivityTable(sensitivityBox);

  const hardLink = el('a', { text: 'Images everyone gets wrong', testid: 'hard-images-link' });
  const statisticsLink = el('a', { text: 'Dataset statistics', testid: 'statistics-link' });
  const paperLink = el('a', { text: 'The paper’s results on this scope', testid: 'paper-link' });

  root.append(
    el('h1', { text: 'Leaderboard' }),
    controls, definition, scopeBox, version, status, statistics, problemBox, compareBar, tableBox, howTo,
    plotBox, sensitivityBox,
    el('ul', { class: 'links' }, el('li', {}, hardLink), el('li', {}, statisticsLink), el('li', {}, paperLink)),
  );

  datasetSelect.addEventListener('change', () => {
    state.dataset = datasetSelect.value;
    state.subset = 'all';
    state.imageSet = '';
    state.picked = [];
    state.sets = null;
    void loadImageSets();
    void load();
  });
  subsetSelect.addEventListener('change', () => { state.subset = subsetSelect.value; void load(); });
  search.addEventListener('input', () => { state.text = search.value; update(); });

  // --- Rendering: every part from the state -------------------------------------------------------
  function update(): void {
    const board = state.board;
    problem.update(state.problem);
    scopePicker.update({ sets: state.sets, selected: state.imageSet, error: state.setsError });
    root.classList.toggle('is-loading', state.loading);
    if (!board) {
      setText(status, state.loading ? 'Loading…' : '');
      return;
    }
    subsetOptions.update(board.subsets);
    if (subsetSelect.value !== board.subset) subsetSelect.value = board.subset;

    const scope = board.scope;
    scopeNotes.update(scope);

    setText(version, `Label version ${board.labelVersion}` + (board.labelVersion !== board.currentLabelVersion ? ` (current: ${board.currentLabelVersion})` : '') +
      ` · ${formatCount(scope.graded)} graded images · ${board.average === 'micro' ? 'mean over images' : 'mean over classes'}, 'unclear' counts ${board.unclear}`);
    const ready = board.statistics.status === 'ready';
    statistics.dataset['status'] = board.statistics.status;
    setText(statistics, ready
      ? `Rank intervals: 95 % bootstrap over images (${board.statistics.replicates} replicates, seed ${board.statistics.seed}); 'n.s.' marks adjacent rows whose difference is not significant at 5 %.`
      : `Computing rank intervals and the tests between adjacent rows (${board.statistics.replicates} bootstrap replicates)…`);
    statistics.classList.toggle('computing', !ready);
    setText(howText, board.definition);
    setText(statisticsText, board.statistics.description);

    const rows = sortRows(filterRows(board.rows, state.text, state.kinds), state.sort, state.descending);
    const names = new Map(board.rows.map((r) => [r.slug, r.displayName]));
    table.update({
      rows, dataset: board.dataset, shiftedDataset: board.shiftedDataset, statisticsReady: ready, picked: state.picked,
      sort: state.sort, descending: state.descending, names,
    });
    const ranked = board.rows.filter((r) => r.rank !== null).length;
    setText(status, `${rows.length} of ${board.rows.length} entries` + (ranked < board.rows.length ? ` · ${board.rows.length - ranked} not ranked (partial)` : ''));

    const [a, b] = state.picked;
    comparePicks.update({
      picked: state.picked.map((slug) => ({ slug, name: names.get(slug) ?? slug })),
      href: a && b ? hrefs.compare(board.dataset, a, b, { subset: board.subset, imageSet: state.imageSet || null, unclear: board.unclear }) : null,
    });

    const shifted = board.shiftedDataset ?? null;
    setHidden(plotBox, shifted === null);
    const fit = board.fit ?? null;
    const space = isFitSpace(fit?.space) ? fit!.space as FitSpace : state.fit;
    fitControls.update({
      space: state.fit, on: state.fitOn,
      text: describeFit(fit, { original: board.dataset, shifted: shifted ?? 'the shifted dataset', on: state.fitOn }, fit ? bandMiddle(fit.band) : undefined),
    });
    const points: ScatterPoint[] = board.rows
      .filter((r) => r.value !== null && r.value !== undefined && r.shift?.value !== null && r.shift?.value !== undefined)
      .map((r) => ({
        slug: r.slug, name: r.displayName, kind: r.kind, x: r.value!, y: r.shift!.value!,
        xLow: r.multiLabel.lower ?? null, xHigh: r.multiLabel.upper ?? null, yLow: r.shift!.lower ?? null, yHigh: r.shift!.upper ?? null,
        robustness: r.shift!.effectiveRobustness ?? null,
      }));
    plot.update({ points, fit, space, xLabel: `${board.dataset} multi-label accuracy`, yLabel: `${shifted ?? ''} multi-label accuracy` });
    sensitivity.update(board.sensitivity);

    const imageSet = state.imageSet || null;
    setHref(hardLink, hrefs.hardImages(board.dataset, 'models', imageSet));
    setHref(statisticsLink, hrefs.datasetStatistics(board.dataset, imageSet));
    setHref(paperLink, hrefs.paper(board.dataset, { imageSet, fit: state.fit, fitOn: state.fitOn }));
  }

  // --- Loading ------------------------------------------------------------------------------------
  function query(wait: boolean): Record<string, string | boolean> {
    const q: Record<string, string | boolean> = { subset: state.subset, average: state.average, unclear: state.unclear, fit: state.fit, fitOn: state.fitOn };
    if (state.dataset) q['dataset'] = state.dataset;
    if (state.imageSet !== '') q['imageSet'] = state.imageSet;
    if (wait) q['wait'] = true;
    return q;
  }

  function show(next: Leaderboard): void {
    state.board = next;
    // Picks of entries no longer on the board go.
    state.picked = state.picked.filter((slug) => next.rows.some((r: LeaderboardRow) => r.slug === slug));
    update();
  }

  let inflight: AbortController | null = null;
  async function load(): Promise<void> {
    inflight?.abort();
    const controller = childController(ctx.signal);
    inflight = controller;
    state.loading = true;
    state.problem = null;
    update();
    try {
      let board = await api.get('/api/leaderboard', { query: query(false), signal: controller.signal });
      state.loading = false;
      show(board);
      // The rank intervals and row tests are computed after the first answer: wait for them, and ask again while
      // the server's wait ran out first.
      while (board.statistics.status !== 'ready') {
        board = await api.get('/api/leaderboard', { query: query(true), signal: controller.signal });
        show(board);
        if (board.statistics.status !== 'ready') await delay(POLL_MS, controller.signal);
      }
    } catch (error) {
      if (isAbortError(error)) return;
      state.loading = false;
      state.problem = toProblem(error);
      update();
    }
  }

  async function loadImageSets(): Promise<void> {
    const dataset = state.dataset;
    if (!dataset) return;
    try {
      const { sets, error } = await fetchImageSets(dataset, ctx.signal);
      if (state.dataset !== dataset) return;
      state.sets = sets;
      state.setsError = error;
      update();
    } catch (error) {
      if (!isAbortError(error)) console.warn('Could not list the image sets', error);
    }
  }

  void (async () => {
    try {
      const datasets: Dataset[] = await api.get('/api/datasets', { signal: ctx.signal });
      const originals = datasets.filter((d) => !d.shiftOf);
      datasetSelect.replaceChildren(...originals.map((d) => el('option', { text: d.name, attrs: { value: d.slug } })));
      state.dataset = originals[0]?.slug ?? null;
      if (state.dataset) datasetSelect.value = state.dataset;
      void loadImageSets();
      await load();
    } catch (error) {
      if (isAbortError(error)) return;
      state.loading = false;
      state.problem = toProblem(error);
      update();
    }
  })();
}
