/**
 * "/" and "/leaderboard": the public multi-label leaderboard as evidence. Every entry graded on the same images (the
 * scope), ranked by the paper's headline with rank intervals and a mark where adjacent rows do not differ
 * significantly, the definition's toggles, the shift fit in the chosen space, how much the ranking depends on the
 * definition, and two rows picked for a paired comparison. The rank intervals come after the first answer: the page
 * says so and asks again (wait=true) until they are in.
 */
import { api, isAbortError, toProblem } from '../api/client';
import { buildApiUrl } from '../logic/url';
import type { Dataset, ImageSet, Leaderboard, LeaderboardRow } from '../api/types';
import { childController, el, setHidden, setHref, setText } from '../components/dom';
import { mountFitControls } from '../components/fitControls';
import { mountComparePicks } from '../components/comparePicks';
import { mountKeyedList } from '../components/keyedList';
import { kindName, mountLeaderboardTable } from '../components/leaderboardTable';
import { mountProblemBox } from '../components/problemBox';
import { mountScatterPlot, type ScatterPoint } from '../components/scatterPlot';
import { mountScopeNotes } from '../components/scopeNotes';
import { fetchImageSets, mountScopePicker } from '../components/scopePicker';
import { mountSensitivityTable } from '../components/sensitivityTable';
import { mountSyntheticNotice, syntheticTag } from '../components/syntheticNotice';
import { formatCount } from '../logic/format';
import { boardCsv, boardCsvName, shownSort, subsetColumns } from '../logic/boardColumns';
import { BOARD_KINDS, boardViewHref, defaultDescending, parseBoardView, type BoardView } from '../logic/boardView';
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
  /** Null: the current label version. */
  version: number | null;
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

const KINDS: readonly string[] = BOARD_KINDS;
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
  // The view comes from the address (a shared link, or back/forward, which mount the page again).
  const initial = parseBoardView(new URL(ctx.location(), window.location.origin).search);
  const state: State = {
    ...initial, kinds: new Set(initial.kinds), picked: [...initial.picked],
    board: null, sets: null, setsError: null, loading: true, problem: null,
  };

  function view(): BoardView {
    return {
      dataset: state.dataset, subset: state.subset, imageSet: state.imageSet, version: state.version, average: state.average, unclear: state.unclear,
      fit: state.fit, fitOn: state.fitOn, sort: state.sort, descending: state.descending, text: state.text,
      kinds: KINDS.filter((k) => state.kinds.has(k)), picked: state.picked,
    };
  }
  /** Writes the view into the address: a new history entry for a changed control, a replaced one while typing. */
  function remember(push = true): void {
    const href = boardViewHref(view());
    if (push) ctx.pushQuietly(href);
    else ctx.replaceQuietly(href);
  }
  /** The dataset shown: the one chosen, else the server's default once the board answered. */
  const shownDataset = (): string | null => state.dataset ?? state.board?.dataset ?? null;

  // --- Markup, built once -------------------------------------------------------------------------
  const datasetSelect = el('select', { testid: 'board-dataset' });
  const subsetSelect = el('select', { testid: 'board-subset' });
  const subsetOptions = mountKeyedList<string>(subsetSelect, (s) => s, (s) => ({ el: el('option', { text: s, attrs: { value: s } }), update() {} }));
  const search = el('input', { attrs: { type: 'search', placeholder: 'Filter models', 'aria-label': 'Filter models' }, testid: 'board-filter' });
  const kindBoxes = KINDS.map((kind) => {
    const box = el('input', { attrs: { type: 'checkbox' }, testid: `kind-${kind}` });
    box.checked = state.kinds.has(kind);
    box.addEventListener('change', () => {
      if (box.checked) state.kinds.add(kind);
      else state.kinds.delete(kind);
      remember();
      update();
    });
    return el('label', { class: 'toggle' }, box, ` ${kindName(kind)}`);
  });
  // The label versions of the dataset, newest first: the board as it was graded at an earlier one.
  const versionSelect = el('select', { testid: 'board-version' });
  const versionOptions = mountKeyedList<string>(versionSelect, (v) => v, (v) => ({
    el: el('option', { text: v === '' ? 'current' : v, attrs: { value: v } }),
    update() {},
  }));
  const controls = el('div', { class: 'controls' }, el('label', { class: 'field' }, 'Dataset ', datasetSelect), el('label', { class: 'field' }, 'Subset ', subsetSelect),
    el('label', { class: 'field' }, 'Label version ', versionSelect));
  const scopePicker = mountScopePicker(controls, { onChange: (value) => { state.imageSet = value; state.picked = []; remember(); void load(); } });
  search.value = state.text;
  controls.append(search, ...kindBoxes);

  const definition = el('fieldset', { class: 'definition' },
    el('legend', { text: 'Multi-label accuracy' }),
    radio('unclear', 'wrong', "strict ('unclear' is wrong)", state.unclear === 'wrong', () => { state.unclear = 'wrong'; remember(); void load(); }),
    radio('unclear', 'correct', "lenient ('unclear' is correct)", state.unclear === 'correct', () => { state.unclear = 'correct'; remember(); void load(); }),
    radio('average', 'micro', 'mean over images', state.average === 'micro', () => { state.average = 'micro'; remember(); void load(); }),
    radio('average', 'per-class', 'mean over classes', state.average === 'per-class', () => { state.average = 'per-class'; remember(); void load(); }),
  );

  // On a phone the controls fold into one "Filters" control; wider screens show them open, without the summary.
  const phone = window.matchMedia('(max-width: 40rem)');
  const filters = el('details', { class: 'board-filters', testid: 'board-filters' },
    el('summary', { text: 'Filters' }), controls, definition);
  filters.open = !phone.matches;
  phone.addEventListener('change', () => { filters.open = !phone.matches; });

  const scopeBox = el('div');
  const scopeNotes = mountScopeNotes(scopeBox);

  const version = el('p', { class: 'label-version', testid: 'label-version' });
  const status = el('p', { class: 'status', testid: 'board-status', attrs: { 'aria-live': 'polite' } });
  const statistics = el('p', { class: 'statistics-status', testid: 'statistics-status', attrs: { 'aria-live': 'polite' } });
  const problemBox = el('div');
  const problem = mountProblemBox(problemBox);

  const compareBar = el('div');
  const comparePicks = mountComparePicks(compareBar, { onClear() { state.picked = []; remember(); update(); } });

  const tableBox = el('div');
  const table = mountLeaderboardTable(tableBox, {
    onSort(key) {
      if (state.sort === key) state.descending = !state.descending;
      else { state.sort = key; state.descending = defaultDescending(key); }
      remember();
      update();
    },
    onPick(slug) {
      state.picked = togglePick(state.picked, slug);
      remember();
      update();
    },
  });

  const howTo = el('details', { class: 'how' }, el('summary', { text: 'How are the intervals and tests computed?' }));
  // The definition in force is always visible beside its controls, not folded away.
  const howText = el('p', { class: 'definition-text', testid: 'definition-text', attrs: { id: 'definition' } });
  const statisticsText = el('p');
  howTo.append(statisticsText);

  const intro = el('p', { class: 'lead', testid: 'board-intro' },
    'Multi-label accuracy counts a model’s top-1 prediction as right when reviewers marked that label correct for the image: ' +
    'an image may show several classes, and any of them is a right answer. ',
    el('a', { attrs: { href: '#definition' }, text: 'The exact definition' }), ' is below the table.');
  const emptyNote = el('p', { class: 'notice', testid: 'board-empty' });
  const syntheticNote = el('div');
  const synthetic = mountSyntheticNotice(syntheticNote, 'board-synthetic');
  const submitLink = el('a', { text: 'Submit predictions' });
  emptyNote.append('No entries on this board yet. ', submitLink, ' to put a model on it, or pick another dataset.');
  // The CSV of the view as shown: the rows filtered and sorted, the columns of the subset chosen, built on demand.
  const csvButton = el('button', { class: 'button', testid: 'board-csv', attrs: { type: 'button' }, text: 'Download CSV' });
  csvButton.addEventListener('click', downloadCsv);
  const timmLink = el('a', { class: 'button', testid: 'board-timm', attrs: { download: '' }, text: 'timm columns (CSV)' });
  const cite = el('p', { class: 'cite', testid: 'board-cite' });
  const exportBox = el('div', { class: 'board-export' }, el('div', { class: 'export-links' }, csvButton, ' ', timmLink), cite);

  const plotBox = el('section', { class: 'plot' }, el('h2', { text: 'Original vs shifted dataset' }));
  const fitControls = mountFitControls(plotBox, {
    onSpace(space) { state.fit = space; remember(); void load(); },
    onGroup(on) { state.fitOn = on; remember(); void load(); },
  });
  const hover = el('p', { class: 'hover', testid: 'scatter-hover', text: 'Hover a mark to see the model.' });
  const plot = mountScatterPlot(plotBox, (p: ScatterPoint | null) =>
    setText(hover, p ? `${p.name} (${p.kind}): ${percent(p.x)} % → ${percent(p.y)} %` +
      (p.robustness === null || p.robustness === undefined ? '' : `, effective robustness ${signedPercent(p.robustness)} points`) : 'Hover a mark to see the model.'),
    (p: ScatterPoint) => ctx.navigate(hrefs.model(p.slug, shownDataset())));
  plotBox.append(hover);

  const sensitivityBox = el('section', { class: 'sensitivity-box' }, el('h2', { text: 'Does the ranking depend on the definition?' }));
  const sensitivity = mountSensitivityTable(sensitivityBox);

  const hardLink = el('a', { text: 'Images everyone gets wrong', testid: 'hard-images-link' });
  const statisticsLink = el('a', { text: 'Dataset statistics', testid: 'statistics-link' });
  const paperLink = el('a', { text: 'The paper’s results on this scope', testid: 'paper-link' });

  root.append(
    el('h1', { text: 'Leaderboard' }),
    // The table comes right after the controls that shape it; the definition in force and the scope follow it, unfolded.
    intro, filters, version, status, problemBox, emptyNote, syntheticNote, compareBar, tableBox, exportBox, statistics, howText, scopeBox, howTo,
    plotBox, sensitivityBox,
    el('ul', { class: 'links' }, el('li', {}, hardLink), el('li', {}, statisticsLink), el('li', {}, paperLink)),
  );

  datasetSelect.addEventListener('change', () => {
    state.dataset = datasetSelect.value;
    state.subset = 'all';
    state.imageSet = '';
    state.version = null;
    state.picked = [];
    state.sets = null;
    remember();
    void loadImageSets();
    void load();
  });
  subsetSelect.addEventListener('change', () => { state.subset = subsetSelect.value; remember(); void load(); });
  versionSelect.addEventListener('change', () => {
    state.version = versionSelect.value === '' ? null : Number(versionSelect.value);
    remember();
    void load();
  });
  search.addEventListener('input', () => { state.text = search.value; remember(false); update(); });

  // --- Rendering: every part from the state -------------------------------------------------------
  function update(): void {
    const board = state.board;
    problem.update(state.problem);
    scopePicker.update({ sets: state.sets, selected: state.imageSet, error: state.setsError });
    root.classList.toggle('is-loading', state.loading);
    // Settled: the board asked for and its statistics are shown; nothing will re-render until the next change.
    root.dataset['settled'] = String(!state.loading && state.board?.statistics.status === 'ready');
    setHref(submitLink, hrefs.submit());
    setHidden(emptyNote, board === null || board.rows.length > 0);
    synthetic.update(board?.rows.filter((r: LeaderboardRow) => r.tags.includes(syntheticTag)).length ?? 0, 'these entries');
    setHidden(exportBox, board === null || board.rows.length === 0);
    if (!board) {
      setText(status, state.loading ? 'Loading…' : '');
      return;
    }
    subsetOptions.update(board.subsets);
    if (subsetSelect.value !== board.subset) subsetSelect.value = board.subset;
    // At most the 50 latest versions are offered; an older one stays reachable through the address.
    const versions = ['', ...Array.from({ length: Math.min(50, board.currentLabelVersion) }, (_, i) => String(board.currentLabelVersion - 1 - i))];
    if (state.version !== null && !versions.includes(String(state.version))) versions.push(String(state.version));
    versionOptions.update(versions);
    const chosenVersion = state.version === null ? '' : String(state.version);
    if (versionSelect.value !== chosenVersion) versionSelect.value = chosenVersion;

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

    const rows = shownRows(board);
    const names = new Map(board.rows.map((r) => [r.slug, r.displayName]));
    const columns = subsetColumns(board.subsets, board.subset);
    const sort = shownSort(state.sort, columns);
    table.update({
      rows, dataset: board.dataset, shiftedDataset: board.shiftedDataset, statisticsReady: ready, picked: state.picked,
      sort, descending: sort === state.sort ? state.descending : defaultDescending(sort), names,
      shiftedName: board.shiftedDataset ? datasetNames.get(board.shiftedDataset) ?? board.shiftedDataset : null,
      subset: board.subset, subsetColumns: columns, graded: board.scope.graded, imageSet: board.scope.imageSet,
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
    plot.update({
      points, fit, space,
      xLabel: `${datasetNames.get(board.dataset) ?? board.dataset} multi-label accuracy`,
      yLabel: `${shifted ? datasetNames.get(shifted) ?? shifted : ''} multi-label accuracy`,
    });
    sensitivity.update(board.sensitivity);

    const exportQuery = { ...query(false), dataset: board.dataset, version: board.labelVersion };
    setHref(timmLink, buildApiUrl('/api/leaderboard', {}, { ...exportQuery, format: 'timm' }));
    const shown = new URL(boardViewHref({ ...view(), dataset: board.dataset, text: '', kinds: KINDS, picked: [] }), window.location.origin);
    setText(cite, `Cite this board: Relabel leaderboard, ${datasetNames.get(board.dataset) ?? board.dataset} (${board.dataset}), ` +
      `label version ${board.labelVersion}, multi-label accuracy (${board.average === 'micro' ? 'mean over images' : 'mean over classes'}, ` +
      `'unclear' counts ${board.unclear}), subset ${board.subset}, scope ${board.scope.imageSet ?? 'every image'}; ${shown.href}`);

    const imageSet = state.imageSet || null;
    setHref(hardLink, hrefs.hardImages(board.dataset, 'models', imageSet));
    setHref(statisticsLink, hrefs.datasetStatistics(board.dataset, imageSet));
    setHref(paperLink, hrefs.paper(board.dataset, { imageSet, fit: state.fit, fitOn: state.fitOn }));
  }

  /** The rows as the table shows them: filtered, and sorted by the sort in force for the columns shown. */
  function shownRows(board: Leaderboard): LeaderboardRow[] {
    const sort = shownSort(state.sort, subsetColumns(board.subsets, board.subset));
    return sortRows(filterRows(board.rows, state.text, state.kinds), sort, sort === state.sort ? state.descending : defaultDescending(sort));
  }

  function downloadCsv(): void {
    const board = state.board;
    if (!board) return;
    const csvView = {
      dataset: board.dataset, subset: board.subset, imageSet: board.scope.imageSet, labelVersion: board.labelVersion,
      columns: subsetColumns(board.subsets, board.subset),
    };
    const url = URL.createObjectURL(new Blob([boardCsv(shownRows(board), csvView)], { type: 'text/csv' }));
    const link = el('a', { attrs: { href: url, download: boardCsvName(csvView) } });
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  // --- Loading ------------------------------------------------------------------------------------
  function query(wait: boolean): Record<string, string | boolean> {
    const q: Record<string, string | boolean> = { subset: state.subset, average: state.average, unclear: state.unclear, fit: state.fit, fitOn: state.fitOn };
    if (state.dataset) q['dataset'] = state.dataset;
    if (state.imageSet !== '') q['imageSet'] = state.imageSet;
    if (state.version !== null) q['version'] = String(state.version);
    if (wait) q['wait'] = true;
    return q;
  }

  function show(next: Leaderboard): void {
    state.board = next;
    if (datasetSelect.value !== next.dataset && [...datasetSelect.options].some((o) => o.value === next.dataset)) datasetSelect.value = next.dataset;
    // Picks of entries no longer on the board go.
    state.picked = state.picked.filter((slug) => next.rows.some((r: LeaderboardRow) => r.slug === slug));
    update();
  }

  let inflight: AbortController | null = null;
  let datasetNames = new Map<string, string>();
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
    const dataset = shownDataset();
    if (!dataset) return;
    try {
      const { sets, error } = await fetchImageSets(dataset, ctx.signal);
      if (shownDataset() !== dataset) return;
      state.sets = sets;
      state.setsError = error;
      update();
    } catch (error) {
      if (!isAbortError(error)) console.warn('Could not list the image sets', error);
    }
  }

  void (async () => {
    try {
      // The board and the dataset list are asked for together; without a dataset in the address the server names the
      // default board (the featured dataset, else the one with the most entries).
      const first = load();
      const datasets: Dataset[] = await api.get('/api/datasets', { signal: ctx.signal });
      // Datasets without entries have no board to show: they are not offered (unless the address names one).
      const offered = datasets.filter((d) => !d.shiftOf && (d.entries > 0 || d.slug === state.dataset));
      datasetSelect.replaceChildren(...offered.map((d) => el('option', { text: d.name, attrs: { value: d.slug } })));
      datasetNames = new Map(datasets.map((d) => [d.slug, d.name]));
      if (state.dataset) {
        datasetSelect.value = state.dataset;
        void loadImageSets();
      }
      await first;
      if (!state.dataset) void loadImageSets();
      update();
    } catch (error) {
      if (isAbortError(error)) return;
      state.loading = false;
      state.problem = toProblem(error);
      update();
    }
  })();
}
