/**
 * "/datasets/{slug}/statistics?imageSet=": what the review found in a dataset, per subset (images with more than one
 * correct label, labels the review changed or added, problematic images by reason) and how much authors agree.
 * Admins can switch the paper's rule that an image whose original label was judged wrong is problematic.
 */
import { api, isAbortError, toProblem } from '../api/client';
import type { Dataset, DatasetStatistics, ImageSet } from '../api/types';
import { mountBreadcrumbs } from '../components/breadcrumbs';
import { childController, el, setHidden, setText } from '../components/dom';
import { mountProblemBox } from '../components/problemBox';
import { fetchImageSets, mountScopePicker } from '../components/scopePicker';
import { mountTable } from '../components/table';
import { countWithShare, reasonsText } from '../logic/compare';
import { formatCount } from '../logic/format';
import type { Problem } from '../logic/problem';
import { hasRole } from '../logic/roles';
import { hrefs, type Route } from '../logic/routes';
import type { PageContext } from '../pageContext';

type SubsetRow = DatasetStatistics['subsets'][number];

interface State {
  imageSet: string;
  dataset: Dataset | null;
  statistics: DatasetStatistics | null;
  sets: ImageSet[] | null;
  setsError: string | null;
  loading: boolean;
  saving: boolean;
  problem: Problem | null;
}

function fixed(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined ? '–' : value.toFixed(digits);
}

export function mountDatasetStatisticsPage(root: HTMLElement, route: Extract<Route, { page: 'dataset-statistics' }>, ctx: PageContext): void {
  const slug = route.dataset;
  const state: State = { imageSet: route.imageSet ?? '', dataset: null, statistics: null, sets: null, setsError: null, loading: true, saving: false, problem: null };

  const breadcrumbs = mountBreadcrumbs(root);
  const heading = el('h1');
  const controls = el('div', { class: 'controls' });
  root.append(heading, controls);
  const scope = mountScopePicker(controls, {
    testid: 'statistics-image-set',
    onChange(value) {
      state.imageSet = value;
      ctx.replaceQuietly(hrefs.datasetStatistics(slug, value || null));
      void load();
    },
  });
  const problemBox = el('div');
  const problem = mountProblemBox(problemBox);
  const status = el('p', { class: 'status', attrs: { 'aria-live': 'polite' } });

  const facts = el('dl', { class: 'facts', testid: 'statistics-facts' });
  const scopeFact = el('dd', { testid: 'statistics-scope' });
  const versionFact = el('dd');
  const ruleFact = el('dd', { testid: 'consensus-rule' });
  const wrongFact = el('dd', { testid: 'wrong-original' });
  facts.append(el('dt', { text: 'Images' }), scopeFact, el('dt', { text: 'Label version' }), versionFact,
    el('dt', { text: 'Consensus rule' }), ruleFact, el('dt', { text: 'Original label judged wrong' }), wrongFact);

  const ruleToggle = el('input', { attrs: { type: 'checkbox' }, testid: 'wrong-original-toggle' });
  const ruleBox = el('p', { class: 'admin' }, el('label', { class: 'toggle' }, ruleToggle,
    " Treat an image whose original label reviewers judged wrong as problematic (the paper's rule; changes every board of this dataset)"));
  ruleToggle.addEventListener('change', () => void saveRule(ruleToggle.checked));

  const tableBox = el('section', {}, el('h2', { text: 'By subset' }));
  const table = mountTable<SubsetRow>(tableBox, {
    testid: 'statistics-table',
    key: (r) => r.subset,
    columns: [
      { header: 'Subset', cell: (r) => r.subset },
      { header: 'Images', cell: (r) => formatCount(r.images), class: 'number' },
      { header: 'Reviewed', cell: (r) => countWithShare(r.reviewed, r.images), class: 'number' },
      { header: 'With a correct label', cell: (r) => formatCount(r.withCorrectLabel), class: 'number' },
      { header: 'More than one correct', cell: (r) => `${formatCount(r.multipleCorrect)} (${r.multipleCorrectShare === null || r.multipleCorrectShare === undefined ? '–' : (r.multipleCorrectShare * 100).toFixed(1)} %)`, class: 'number' },
      { header: 'Original correct', cell: (r) => formatCount(r.originalCorrect), class: 'number' },
      { header: 'Original wrong', cell: (r) => formatCount(r.originalWrong), class: 'number' },
      { header: 'Another label correct', cell: (r) => formatCount(r.otherCorrect), class: 'number' },
      { header: 'Problematic', cell: (r) => formatCount(r.problematic), class: 'number' },
      { header: 'By reason', cell: (r) => reasonsText(r.problematicByReason) },
    ],
  });

  const agreement = el('dl', { class: 'facts', testid: 'agreement' });
  const agreementCells = {
    items: el('dd'), verdicts: el('dd'), authors: el('dd'), observed: el('dd', { testid: 'observed-agreement' }), kappa: el('dd', { testid: 'fleiss-kappa' }),
  };
  agreement.append(
    el('dt', { text: 'Items judged by two or more' }), agreementCells.items,
    el('dt', { text: 'Their verdicts' }), agreementCells.verdicts,
    el('dt', { text: 'Authors' }), agreementCells.authors,
    el('dt', { text: 'Observed agreement' }), agreementCells.observed,
    el('dt', { text: "Fleiss' kappa" }), agreementCells.kappa,
  );
  const description = el('p', { class: 'muted', testid: 'statistics-description' });
  const boardLink = el('a', { text: 'Leaderboard', attrs: { href: hrefs.leaderboard() } });
  const browseLink = el('a', { text: 'Classes of this dataset', attrs: { href: hrefs.dataset(slug) } });

  root.append(problemBox, status, facts, ruleBox, tableBox, el('h2', { text: 'Agreement between authors' }), agreement, description,
    el('ul', { class: 'links' }, el('li', {}, boardLink), el('li', {}, browseLink)));

  function update(): void {
    const name = state.dataset?.name ?? slug;
    ctx.setTitle('Statistics', name);
    breadcrumbs.update([{ text: 'Browse', href: hrefs.browse() }, { text: name, href: hrefs.dataset(slug) }, { text: 'Statistics', href: null }]);
    setText(heading, `Statistics: ${name}`);
    scope.update({ sets: state.sets, selected: state.imageSet, error: state.setsError });
    problem.update(state.problem);
    setText(status, state.loading ? 'Loading…' : '');
    const admin = ctx.session.state.status === 'signed-in' && hasRole(ctx.session.state.user.roles, 'admin');
    setHidden(ruleBox, !admin || state.dataset === null);
    ruleToggle.disabled = state.saving;
    // While a change is saved the box shows the choice; afterwards (or after a failure) what the server holds.
    if (state.dataset && !state.saving) ruleToggle.checked = state.dataset.originalWrongIsProblematic;

    const s = state.statistics;
    setHidden(facts, s === null);
    if (!s) return;
    const all = s.subsets.find((x) => x.subset === 'all');
    setText(scopeFact, (s.imageSet ? `image set '${s.imageSet}'` : 'every image') + (all ? `: ${formatCount(all.images)} images` : ''));
    setText(versionFact, String(s.labelVersion));
    setText(ruleFact, s.consensusRule);
    setText(wrongFact, s.originalWrongIsProblematic
      ? `counts as problematic (${formatCount(s.wrongOriginalImages ?? 0)} images)`
      : 'does not make an image problematic (the setting is off)');
    table.update(s.subsets);
    const a = s.agreement;
    setText(agreementCells.items, formatCount(a.items));
    setText(agreementCells.verdicts, formatCount(a.verdicts));
    setText(agreementCells.authors, formatCount(a.authors));
    setText(agreementCells.observed, a.observedAgreement === null || a.observedAgreement === undefined ? '– (no item has two verdicts)' : `${(a.observedAgreement * 100).toFixed(1)} %`);
    setText(agreementCells.kappa, fixed(a.fleissKappa));
    setText(description, s.description);
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
      state.statistics = await api.get('/api/datasets/{slug}/statistics', {
        path: { slug }, query: state.imageSet ? { imageSet: state.imageSet } : {}, signal: controller.signal,
      });
    } catch (error) {
      if (isAbortError(error)) return;
      state.statistics = null;
      state.problem = toProblem(error);
    }
    state.loading = false;
    update();
  }

  async function saveRule(on: boolean): Promise<void> {
    state.saving = true;
    update();
    try {
      state.dataset = await api.patch('/api/datasets/{slug}', { path: { slug }, body: { originalWrongIsProblematic: on }, signal: ctx.signal });
      state.saving = false;
      await load();
    } catch (error) {
      if (isAbortError(error)) return;
      state.saving = false;
      state.problem = toProblem(error);
      update();
    }
  }

  ctx.session.subscribe(() => update(), ctx.signal);
  api.get('/api/datasets/{slug}', { path: { slug }, signal: ctx.signal })
    .then((dataset) => { state.dataset = dataset; update(); })
    .catch((error: unknown) => { if (!isAbortError(error)) console.warn('Could not load the dataset', error); });
  fetchImageSets(slug, ctx.signal)
    .then(({ sets, error }) => { state.sets = sets; state.setsError = error; update(); })
    .catch((error: unknown) => { if (!isAbortError(error)) console.warn('Could not list the image sets', error); });
  void load();
}
