/**
 * "/browse/{dataset}?subset=NAME&q=TEXT": the classes of a dataset, by subset, filtered as you type.
 * The subset and search text are kept in the address, so a reload or a shared link shows the same list.
 */
import { api, isAbortError, toProblem } from '../api/client';
import type { Dataset, DatasetClass, Subset } from '../api/types';
import { mountBreadcrumbs } from '../components/breadcrumbs';
import { mountClassList } from '../components/classList';
import { mountClassSearch } from '../components/classSearch';
import { childController, el, setHidden, setText } from '../components/dom';
import { mountProblemBox } from '../components/problemBox';
import { mountSubsetPicker } from '../components/subsetPicker';
import { filterClasses } from '../logic/classFilter';
import { countOf, formatCount } from '../logic/format';
import type { Problem } from '../logic/problem';
import { showMissing } from './notFound';
import { hrefs } from '../logic/routes';
import type { PageContext } from '../pageContext';

interface DatasetPageState {
  dataset: Dataset | null;
  subsets: Subset[] | null;
  subset: string;
  classes: DatasetClass[] | null;
  loadingClasses: boolean;
  query: string;
  problem: Problem | null;
}

export function mountDatasetPage(
  root: HTMLElement,
  route: { dataset: string; subset: string | null; q: string },
  ctx: PageContext,
): void {
  const slug = route.dataset;
  const state: DatasetPageState = {
    dataset: null,
    subsets: null,
    subset: route.subset ?? 'all',
    classes: null,
    loadingClasses: true,
    query: route.q,
    problem: null,
  };

  const breadcrumbs = mountBreadcrumbs(root);
  const heading = el('h1');
  const description = el('p', { class: 'lead' });
  const statisticsLink = el('a', { text: 'What the review found: statistics of this dataset', testid: 'dataset-statistics-link', attrs: { href: hrefs.datasetStatistics(slug) } });
  root.append(heading, description, el('p', {}, statisticsLink));
  const controls = el('div', { class: 'controls' });
  root.append(controls);
  const subsetPicker = mountSubsetPicker(controls, { onChange: selectSubset });
  const search = mountClassSearch(controls, { onInput: setQuery });
  const status = el('p', { class: 'status', attrs: { 'aria-live': 'polite' } });
  root.append(status);
  const problem = mountProblemBox(root);
  const classList = mountClassList(root);
  const empty = el('p', { class: 'empty' });
  root.append(empty);

  // Filtering 1,000 classes is quick, but only redo it when the input changed.
  let filtered: { classes: DatasetClass[] | null; query: string; result: DatasetClass[] } = { classes: null, query: '', result: [] };
  function visibleClasses(): DatasetClass[] {
    if (filtered.classes !== state.classes || filtered.query !== state.query) {
      filtered = { classes: state.classes, query: state.query, result: filterClasses(state.classes ?? [], state.query) };
    }
    return filtered.result;
  }

  let missingShown = false;
  function update(): void {
    if (missingShown) return;
    const name = state.dataset?.name ?? slug;
    ctx.setTitle(name, 'Browse');
    breadcrumbs.update([{ text: 'Browse', href: hrefs.browse() }, { text: name, href: null }]);
    setText(heading, name);
    setText(description, state.dataset?.description ?? '');
    setHidden(description, !state.dataset?.description);
    subsetPicker.update({ subsets: state.subsets, selected: state.subset });
    search.update(state.query);
    problem.update(state.problem);

    const visible = visibleClasses();
    const total = state.classes?.length ?? 0;
    setText(
      status,
      state.loadingClasses
        ? 'Loading classes…'
        : state.classes === null
          ? ''
          : state.query.trim() === ''
            ? countOf(total, 'class', 'classes')
            : `${formatCount(visible.length)} of ${countOf(total, 'class', 'classes')} match`,
    );
    root.classList.toggle('is-loading', state.loadingClasses);
    classList.update({ dataset: slug, classes: visible });
    const noMatch = !state.loadingClasses && state.classes !== null && visible.length === 0;
    setText(empty, total === 0 ? 'This subset has no classes.' : `No class matches “${state.query.trim()}”.`);
    setHidden(empty, !noMatch);
  }

  function rememberInAddress(): void {
    ctx.replaceQuietly(hrefs.dataset(slug, { subset: state.subset, q: state.query }));
  }

  function setQuery(text: string): void {
    state.query = text;
    rememberInAddress();
    update();
  }

  function selectSubset(name: string): void {
    if (name === state.subset) return;
    state.subset = name;
    rememberInAddress();
    loadClasses();
  }

  let classesRequest: AbortController | null = null;
  function loadClasses(): void {
    classesRequest?.abort();
    const request = childController(ctx.signal);
    classesRequest = request;
    state.loadingClasses = true;
    state.problem = null;
    update();
    api
      .get('/api/datasets/{slug}/classes', { path: { slug }, query: { subset: state.subset }, signal: request.signal })
      .then((classes) => {
        state.classes = classes;
      })
      .catch((error: unknown) => {
        if (isAbortError(error)) return;
        state.classes = null;
        state.problem = toProblem(error);
      })
      .finally(() => {
        if (request.signal.aborted) return;
        state.loadingClasses = false;
        update();
      });
  }

  function fail(error: unknown): void {
    if (isAbortError(error) || ctx.signal.aborted) return;
    state.problem ??= toProblem(error);
    update();
  }

  api
    .get('/api/datasets/{slug}', { path: { slug }, signal: ctx.signal })
    .then((dataset) => {
      state.dataset = dataset;
      update();
    })
    .catch((error: unknown) => {
      if (!isAbortError(error) && toProblem(error).status === 404) {
        missingShown = true;
        showMissing(root, ctx, `There is no dataset '${slug}'.`);
      } else fail(error);
    });
  api
    .get('/api/datasets/{slug}/subsets', { path: { slug }, signal: ctx.signal })
    .then((subsets) => {
      state.subsets = subsets;
      update();
    })
    .catch(fail);
  loadClasses();
}
