/**
 * "/paper?dataset=&imageSet=&fit=&fitOn=": the paper's main results (Shankar et al. 2020) for a dataset pair on one
 * scope: the original-vs-shifted figure (every mark labelled, humans highlighted, y = x, the fit and its band), the
 * table of each human and the best model per subset on both datasets with drops and intervals, and the images every
 * human, every model, and both get wrong. The same images throughout; the choices are kept in the address.
 */
import { api, isAbortError, toProblem } from '../api/client';
import type { Dataset, ImageSet, PaperView } from '../api/types';
import { childController, el, setHidden, setText } from '../components/dom';
import { mountFitControls } from '../components/fitControls';
import { mountKeyedList } from '../components/keyedList';
import { mountProblemBox } from '../components/problemBox';
import { mountScatterPlot } from '../components/scatterPlot';
import { mountScopeNotes } from '../components/scopeNotes';
import { mountSyntheticNotice } from '../components/syntheticNotice';
import { fetchImageSets, mountScopePicker } from '../components/scopePicker';
import { mountTable } from '../components/table';
import { roleName } from '../logic/compare';
import { formatCount } from '../logic/format';
import { intervalText, percent, signedPercent } from '../logic/leaderboard';
import type { Problem } from '../logic/problem';
import { hrefs, type FitGroup, type Route } from '../logic/routes';
import { bandMiddle, describeFit, type FitSpace } from '../logic/shiftPlot';
import type { PageContext } from '../pageContext';

type TableRow = PaperView['table'][number];
type Mistakes = PaperView['mistakes'][number];

interface State {
  dataset: string | null;
  imageSet: string;
  fit: FitSpace;
  fitOn: FitGroup;
  datasets: Dataset[] | null;
  sets: ImageSet[] | null;
  setsError: string | null;
  view: PaperView | null;
  loading: boolean;
  problem: Problem | null;
}

function estimate(e: { value?: number | null; lower?: number | null; upper?: number | null }): string {
  return `${percent(e.value)} ${intervalText(e.lower, e.upper)}`.trim();
}

function mountMistakes(parent: HTMLElement, imageSet: () => string | null): { update(mistakes: readonly Mistakes[]): void } {
  const list = el('div', { class: 'mistakes', testid: 'paper-mistakes' });
  parent.append(list);
  const items = mountKeyedList<Mistakes>(list, (m) => m.dataset, (first) => {
    const title = el('h3', { text: first.dataset });
    const humans = el('a', { testid: 'humans-all-wrong' });
    const models = el('a', { testid: 'models-all-wrong' });
    const both = el('span', { testid: 'both-wrong' });
    const bySubset = el('p', { class: 'muted' });
    const images = el('ul', { class: 'mistake-images' });
    const imageLinks = mountKeyedList<Mistakes['bothImages'][number]>(images, (image) => String(image.imageId), (image) => {
      const link = el('a', { testid: 'mistake-image', text: `${image.originalLemma} #${image.imageId}`, attrs: { href: hrefs.image(image.imageId) } });
      return { el: el('li', {}, link), update() {} };
    });
    const section = el('section', { attrs: { 'data-dataset': first.dataset } }, title,
      el('ul', {}, el('li', {}, humans), el('li', {}, models), el('li', {}, both)), bySubset, images);
    return {
      el: section,
      update(m) {
        setText(humans, `${formatCount(m.humansAllWrong)} images every human (${m.humans}) gets wrong`);
        humans.setAttribute('href', hrefs.hardImages(m.dataset, 'humans', imageSet()));
        setText(models, `${formatCount(m.modelsAllWrong)} images every model (${m.models}) gets wrong`);
        models.setAttribute('href', hrefs.hardImages(m.dataset, 'models', imageSet()));
        setText(both, `${formatCount(m.both)} images every human and every model get wrong` + (m.both > 0 ? ':' : ''));
        setText(bySubset, m.bothBySubset.map((s) => `${s.subset}: ${s.count}`).join(' · '));
        imageLinks.update(m.bothImages);
      },
    };
  });
  return { update: (mistakes) => items.update(mistakes) };
}

export function mountPaperPage(root: HTMLElement, route: Extract<Route, { page: 'paper' }>, ctx: PageContext): void {
  ctx.setTitle('Paper view');
  const state: State = {
    dataset: route.dataset, imageSet: route.imageSet ?? '', fit: route.fit, fitOn: route.fitOn,
    datasets: null, sets: null, setsError: null, view: null, loading: true, problem: null,
  };

  const heading = el('h1', { text: 'The paper’s results' });
  const lead = el('p', { class: 'lead', text: 'Humans and models on the original and the shifted dataset, graded on the same images (Shankar et al. 2020, “Evaluating Machine Accuracy on ImageNet”).' });
  const controls = el('div', { class: 'controls' });
  const datasetSelect = el('select', { testid: 'paper-dataset' });
  const datasetOptions = mountKeyedList<Dataset>(datasetSelect, (d) => d.slug, () => {
    const option = el('option');
    return { el: option, update(d) { option.value = d.slug; setText(option, d.name); } };
  });
  datasetSelect.addEventListener('change', () => {
    state.dataset = datasetSelect.value;
    state.imageSet = '';
    state.sets = null;
    void loadSets();
    changed();
  });
  controls.append(el('label', { class: 'field' }, 'Dataset ', datasetSelect));
  const scope = mountScopePicker(controls, { testid: 'paper-image-set', onChange: (value) => { state.imageSet = value; changed(); } });
  const scopeBox = el('div');
  const scopeNotes = mountScopeNotes(scopeBox);
  const problemBox = el('div');
  const problem = mountProblemBox(problemBox);
  const status = el('p', { class: 'status', attrs: { 'aria-live': 'polite' } });
  const syntheticBox = el('div');
  const synthetic = mountSyntheticNotice(syntheticBox, 'paper-synthetic');

  const figure = el('section', { class: 'plot', testid: 'paper-figure' }, el('h2', { text: 'Original vs shifted accuracy' }));
  const fitControls = mountFitControls(figure, {
    onSpace(space) { state.fit = space; changed(); },
    onGroup(on) { state.fitOn = on; changed(); },
  });
  const hover = el('p', { class: 'hover', text: 'Humans are drawn as triangles and highlighted; whiskers are 95 % intervals; the dashed line is y = x.' });
  const plot = mountScatterPlot(figure, (p) => setText(hover, p
    ? `${p.name} (${p.kind}): ${percent(p.x)} % → ${percent(p.y)} %` + (p.robustness === null || p.robustness === undefined ? '' : `, effective robustness ${signedPercent(p.robustness)} points`)
    : 'Humans are drawn as triangles and highlighted; whiskers are 95 % intervals; the dashed line is y = x.'));
  figure.append(hover);

  const tableBox = el('section', {}, el('h2', { text: 'Humans and the best model per subset' }));
  const table = mountTable<TableRow>(tableBox, {
    testid: 'paper-table',
    key: (r) => `${r.subset}:${r.role}:${r.slug}`,
    columns: [
      { header: 'Subset', cell: (r) => r.subset },
      { header: 'Who', cell: (r) => roleName(r.role) },
      { header: 'Entry', cell: (r) => r.name },
      { header: 'Original [95 %]', cell: (r) => estimate(r.original), class: 'number' },
      { header: 'Shifted [95 %]', cell: (r) => estimate(r.shifted), class: 'number' },
      { header: 'Drop (points)', cell: (r) => percent(r.drop), class: 'number' },
    ],
  });
  const tableNote = el('p', { class: 'muted', testid: 'paper-definition' });
  tableBox.append(tableNote);

  const mistakesBox = el('section', {}, el('h2', { text: 'Images everyone gets wrong' }));
  const mistakes = mountMistakes(mistakesBox, () => state.view?.imageSet ?? (state.imageSet || null));

  root.append(heading, lead, controls, scopeBox, problemBox, status, syntheticBox, figure, tableBox, mistakesBox);

  function update(): void {
    datasetOptions.update(state.datasets ?? []);
    if (state.dataset && datasetSelect.value !== state.dataset) datasetSelect.value = state.dataset;
    scope.update({ sets: state.sets, selected: state.imageSet, error: state.setsError });
    problem.update(state.problem);
    setText(status, state.loading ? 'Computing…' : '');
    const v = state.view;
    for (const part of [figure, tableBox, mistakesBox]) setHidden(part, v === null);
    synthetic.update(v?.syntheticEntries ?? 0, 'the entries in the figure');
    if (!v) return;
    setText(heading, `The paper’s results: ${v.dataset} vs ${v.shifted}`);
    ctx.setTitle(`${v.dataset} vs ${v.shifted}`, 'Paper view');
    scopeNotes.update(v.scope);
    const fit = v.figure.fit ?? null;
    fitControls.update({
      space: state.fit, on: state.fitOn,
      text: describeFit(fit, { original: v.dataset, shifted: v.shifted, on: state.fitOn }, fit ? bandMiddle(fit.band) : undefined),
    });
    plot.update({
      points: v.figure.points.map((p) => ({
        slug: p.slug, name: p.name, kind: p.kind, x: p.x, y: p.y, xLow: p.xLower ?? null, xHigh: p.xUpper ?? null,
        yLow: p.yLower ?? null, yHigh: p.yUpper ?? null, robustness: p.effectiveRobustness ?? null,
      })),
      fit, space: state.fit, xLabel: v.figure.xLabel, yLabel: v.figure.yLabel, labelAll: true,
    });
    table.update(v.table);
    const humans = v.figure.points.filter((p) => p.kind === 'human').length;
    setText(tableNote, `${humans} of the ${v.figure.points.length} plotted entries are human (highlighted). ${v.definition}`);
    mistakes.update(v.mistakes);
  }

  function changed(): void {
    ctx.replaceQuietly(hrefs.paper(state.dataset, { imageSet: state.imageSet || null, fit: state.fit, fitOn: state.fitOn }));
    void load();
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
      const query: Record<string, string> = { fit: state.fit, fitOn: state.fitOn };
      if (state.dataset) query['dataset'] = state.dataset;
      if (state.imageSet) query['imageSet'] = state.imageSet;
      state.view = await api.get('/api/analysis/paper', { query, signal: controller.signal });
      state.dataset ??= state.view.dataset;
    } catch (error) {
      if (isAbortError(error)) return;
      state.view = null;
      state.problem = toProblem(error);
    }
    state.loading = false;
    update();
  }

  async function loadSets(): Promise<void> {
    const dataset = state.dataset;
    if (!dataset) return;
    try {
      const { sets, error } = await fetchImageSets(dataset, ctx.signal);
      if (dataset !== state.dataset) return;
      state.sets = sets;
      state.setsError = error;
      update();
    } catch (error) {
      if (!isAbortError(error)) console.warn('Could not list the image sets', error);
    }
  }

  void (async () => {
    try {
      const datasets = await api.get('/api/datasets', { signal: ctx.signal });
      // A pair's original is the one another dataset is a shifted copy of.
      state.datasets = datasets.filter((d) => datasets.some((x) => x.shiftOf === d.slug));
      state.dataset ??= state.datasets[0]?.slug ?? null;
      update();
      await loadSets();
    } catch (error) {
      if (!isAbortError(error)) console.warn('Could not list the datasets', error);
    }
  })();
  void load();
}
