/**
 * "/models/{slug}?dataset=": a model's accuracy per subset (aligned bars), per class (sortable, searchable) and the images
 * it gets wrong (a paged thumbnail grid, or names for readers who may not see images); then what it has uploaded.
 */
import { api, isAbortError, toProblem } from '../api/client';
import type { Dataset, ModelResults } from '../api/types';
import { mountBreadcrumbs } from '../components/breadcrumbs';
import { el, setHidden, setText } from '../components/dom';
import { mountModelUploads } from '../components/modelUploads';
import { mountPagedImages } from '../components/pagedImages';
import { mountProblemBox } from '../components/problemBox';
import { canSeeImages } from '../logic/drillDown';
import { percent } from '../logic/leaderboard';
import { hrefs, type Route } from '../logic/routes';
import type { PageContext } from '../pageContext';
import { showMissing } from './notFound';

type ClassRow = ModelResults['classes'][number];
type ClassKey = 'index' | 'lemma' | 'images' | 'top1' | 'strict' | 'lenient' | 'pending';

export function mountModelPage(root: HTMLElement, route: Extract<Route, { page: 'model' }>, ctx: PageContext): void {
  ctx.setTitle(route.slug);
  const breadcrumbs = mountBreadcrumbs(root);
  const title = el('h1', { text: route.slug, testid: 'model-title' });
  const meta = el('p', { class: 'lead', testid: 'model-meta' });
  const datasetSelect = el('select', { testid: 'model-dataset', attrs: { id: 'model-dataset' } });
  const datasetSwitch = el('p', { class: 'dataset-switch' }, el('label', { text: 'Dataset ', attrs: { for: 'model-dataset' } }), datasetSelect);
  const bars = el('div', { class: 'bars', testid: 'subset-bars' });
  const search = el('input', { attrs: { type: 'search', placeholder: 'Search classes', 'aria-label': 'Search classes' }, testid: 'class-filter' });
  const head = el('tr');
  const body = el('tbody', { testid: 'class-rows' });
  const wrongTitle = el('h2', { text: 'Images it gets wrong' });
  const wrongNote = el('p', { class: 'muted', testid: 'wrong-note' });
  const problem = mountProblemBox(root);
  root.append(title, meta, datasetSwitch, el('h2', { text: 'Per subset (strict multi-label)' }), bars,
    el('h2', { text: 'Per class' }), search, el('div', { class: 'table-scroll' }, el('table', { class: 'classes' }, el('thead', {}, head), body)),
    wrongTitle, wrongNote);
  const wrong = mountPagedImages(root, { testid: 'wrong-images', pageSize: 24, label: 'Images it gets wrong' });
  breadcrumbs.update([{ text: 'Leaderboard', href: hrefs.leaderboard() }, { text: route.slug, href: null }]);

  let results: ModelResults | null = null;
  let datasets: Dataset[] = [];
  let sort: ClassKey = 'strict';
  let descending = false;

  const columns: [string, ClassKey][] = [['#', 'index'], ['Class', 'lemma'], ['Images', 'images'], ['Top-1', 'top1'], ['Strict', 'strict'], ['Lenient', 'lenient'], ['Pending', 'pending']];
  const sortButtons = columns.map(([label, key]) => {
    const button = el('button', { class: 'sort', text: label, attrs: { type: 'button' } });
    button.addEventListener('click', () => { descending = sort === key ? !descending : false; sort = key; renderClasses(); });
    return { key, th: el('th', { attrs: { scope: 'col' } }, button) };
  });
  head.replaceChildren(...sortButtons.map((b) => b.th));
  search.addEventListener('input', renderClasses);
  datasetSelect.addEventListener('change', () => ctx.navigate(hrefs.model(route.slug, datasetSelect.value)));

  function renderClasses(): void {
    for (const b of sortButtons) b.th.setAttribute('aria-sort', b.key === sort ? (descending ? 'descending' : 'ascending') : 'none');
    if (!results) return;
    const dataset = results.dataset;
    const needle = search.value.trim().toLowerCase();
    const value = (c: ClassRow): number | string => (sort === 'lemma' ? c.lemma.toLowerCase() : (c[sort] ?? -1));
    const rows = results.classes
      .filter((c) => needle === '' || c.lemma.toLowerCase().includes(needle) || c.wnid.includes(needle))
      .sort((a, b) => { const x = value(a), y = value(b); const o = x < y ? -1 : x > y ? 1 : a.index - b.index; return descending ? -o : o; });
    body.replaceChildren(...rows.map((c) => el('tr', {},
      el('td', { class: 'number', text: String(c.index) }), el('td', {}, el('a', { text: c.lemma, attrs: { href: hrefs.class(dataset, c.wnid) } })),
      el('td', { class: 'number', text: String(c.images) }), el('td', { class: 'number', text: percent(c.top1) }), el('td', { class: 'number', text: percent(c.strict) }),
      el('td', { class: 'number', text: percent(c.lenient) }), el('td', { class: 'number', text: String(c.pending) }))));
  }

  function renderResults(r: ModelResults, predictedOn: readonly string[]): void {
    setText(title, r.model.displayName);
    ctx.setTitle(r.model.displayName, r.dataset);
    breadcrumbs.update([
      { text: 'Leaderboard', href: `${hrefs.leaderboard()}?dataset=${encodeURIComponent(r.dataset)}` },
      { text: r.dataset, href: hrefs.dataset(r.dataset) },
      { text: r.model.displayName, href: null },
    ]);
    setText(meta, `${r.model.kind} · ${r.dataset}${r.imageSet ? ` (image set '${r.imageSet}')` : ''} · label version ${r.labelVersion}`);
    const options = predictedOn.includes(r.dataset) ? predictedOn : [r.dataset, ...predictedOn];
    datasetSelect.replaceChildren(...options.map((slug) => el('option', { text: slug, attrs: { value: slug } })));
    datasetSelect.value = r.dataset;
    setHidden(datasetSwitch, options.length < 2);
    bars.replaceChildren(...r.subsets.map((s) => {
      const v = s.strict.value ?? 0;
      const fill = el('span', { class: 'bar-fill' });
      fill.style.width = `${(v * 100).toFixed(1)}%`;
      return el('div', { class: 'bar-row', attrs: { 'data-subset': s.subset } },
        el('span', { class: 'bar-label', text: s.subset }),
        el('span', { class: 'bar-track', attrs: { 'aria-hidden': 'true' } }, fill),
        el('span', { class: 'bar-value', text: `${percent(s.strict.value)} %` + (s.strict.provisional ? ` (${s.strict.pending} pending)` : '') }));
    }));
    renderClasses();
    const dataset = datasets.find((d) => d.slug === r.dataset);
    const showFiles = canSeeImages(ctx.session.state.status === 'signed-in', dataset?.imagesPublic ?? false);
    setText(wrongTitle, `Images it gets wrong (${r.wrongCount})`);
    setText(wrongNote, [
      r.wrongImages.length < r.wrongCount ? `The first ${r.wrongImages.length} are listed.` : null,
      showFiles ? null : 'Sign in to see the images.',
    ].filter((s) => s !== null).join(' '));
    setHidden(wrongNote, wrongNote.textContent === '');
    wrong.update({
      showFiles,
      images: r.wrongImages.map((w) => ({ imageId: w.imageId, title: w.originalLemma, caption: `predicted ${w.predictedLemma} (${w.state})` })),
    });
  }

  void (async () => {
    try {
      const model = api.get('/api/models/{slug}', { path: { slug: route.slug }, signal: ctx.signal });
      const sets = api.get('/api/models/{slug}/predictions', { path: { slug: route.slug }, signal: ctx.signal });
      const all = api.get('/api/datasets', { signal: ctx.signal });
      // Awaited below, or not at all when the model is missing: handled either way, never an unhandled rejection.
      sets.catch(() => undefined);
      all.catch(() => undefined);
      try {
        await model;
      } catch (error) {
        if (!isAbortError(error) && toProblem(error).status === 404) {
          showMissing(root, ctx, `There is no model '${route.slug}'.`);
          return;
        }
        throw error;
      }
      datasets = await all;
      if (route.dataset && !datasets.some((d) => d.slug === route.dataset)) {
        showMissing(root, ctx, `There is no dataset '${route.dataset}'.`);
        return;
      }
      const predictedOn = (await sets).map((s) => s.dataset);
      results = await api.get('/api/models/{slug}/results', {
        path: { slug: route.slug }, query: route.dataset ? { dataset: route.dataset } : {}, signal: ctx.signal,
      });
      renderResults(results, predictedOn);
      // The session may settle after the results: whether images show depends on it.
      ctx.session.subscribe(() => { if (results) renderResults(results, predictedOn); }, ctx.signal);
    } catch (error) {
      if (!isAbortError(error)) problem.update(toProblem(error));
    }
  })();
  const uploads = el('section');
  root.append(uploads);
  mountModelUploads(uploads, route, ctx.signal);
}
