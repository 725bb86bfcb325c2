/**
 * "/compare?dataset=&a=&b=&subset=&imageSet=&unclear=": is the difference between two entries real? Both entries on
 * the same images: per metric the paired table (both right, only a, only b, both wrong), each accuracy, the difference
 * with its 95 % interval and McNemar's exact p-value. The choices are kept in the address.
 */
import { api, isAbortError, toProblem } from '../api/client';
import type { CompareResult, Leaderboard, MetricComparison } from '../api/types';
import { childController, el, setHidden, setText } from '../components/dom';
import { mountKeyedList } from '../components/keyedList';
import { mountProblemBox } from '../components/problemBox';
import { fetchImageSets, mountScopePicker } from '../components/scopePicker';
import { compareSummary, metricName } from '../logic/compare';
import { intervalText, percent, pValueText, signedPercent } from '../logic/leaderboard';
import type { Problem } from '../logic/problem';
import { hrefs, type Route } from '../logic/routes';
import type { ImageSet } from '../api/types';
import type { PageContext } from '../pageContext';

interface Entry {
  readonly slug: string;
  readonly name: string;
}

interface State {
  dataset: string | null;
  a: string | null;
  b: string | null;
  subset: string;
  imageSet: string;
  unclear: 'wrong' | 'correct';
  entries: Entry[] | null;
  subsets: string[];
  sets: ImageSet[] | null;
  setsError: string | null;
  result: CompareResult | null;
  loading: boolean;
  problem: Problem | null;
}

function mountEntryPicker(parent: HTMLElement, label: string, testid: string, onChange: (slug: string) => void): { update(entries: readonly Entry[], selected: string | null): void } {
  const select = el('select', { testid });
  parent.append(el('label', { class: 'field' }, `${label} `, select));
  select.addEventListener('change', () => onChange(select.value));
  const options = mountKeyedList<Entry>(select, (e) => e.slug, () => {
    const option = el('option');
    return { el: option, update(e) { option.value = e.slug; setText(option, e.name); } };
  });
  return {
    update(entries, selected) {
      const shown = [{ slug: '', name: '(choose an entry)' }, ...entries];
      if (selected && !entries.some((e) => e.slug === selected)) shown.push({ slug: selected, name: selected });
      options.update(shown);
      if (select.value !== (selected ?? '')) select.value = selected ?? '';
    },
  };
}

export function mountComparePage(root: HTMLElement, route: Extract<Route, { page: 'compare' }>, ctx: PageContext): void {
  ctx.setTitle('Compare');
  const state: State = {
    dataset: route.dataset, a: route.a, b: route.b, subset: route.subset ?? 'all', imageSet: route.imageSet ?? '', unclear: route.unclear,
    entries: null, subsets: ['all'], sets: null, setsError: null, result: null, loading: false, problem: null,
  };

  const heading = el('h1', { text: 'Compare two entries' });
  const lead = el('p', { class: 'lead', text: 'Both entries on the same images: where they agree, where only one is right, and whether the difference is more than chance.' });
  const controls = el('div', { class: 'controls' });
  const pickA = mountEntryPicker(controls, 'Entry a', 'compare-a', (slug) => { state.a = slug || null; changed(); });
  const pickB = mountEntryPicker(controls, 'Entry b', 'compare-b', (slug) => { state.b = slug || null; changed(); });
  const subsetSelect = el('select', { testid: 'compare-subset' });
  const subsetOptions = mountKeyedList<string>(subsetSelect, (s) => s, (s) => ({ el: el('option', { text: s, attrs: { value: s } }), update() {} }));
  subsetSelect.addEventListener('change', () => { state.subset = subsetSelect.value; changed(); });
  controls.append(el('label', { class: 'field' }, 'Subset ', subsetSelect));
  const scope = mountScopePicker(controls, { testid: 'compare-image-set', onChange: (value) => { state.imageSet = value; void loadEntries(); changed(); } });
  const lenient = el('input', { attrs: { type: 'checkbox' }, testid: 'compare-lenient' });
  lenient.addEventListener('change', () => { state.unclear = lenient.checked ? 'correct' : 'wrong'; changed(); });
  controls.append(el('label', { class: 'toggle' }, lenient, " 'unclear' counts correct"));

  const problemBox = el('div');
  const problem = mountProblemBox(problemBox);
  const status = el('p', { class: 'status', testid: 'compare-status', attrs: { 'aria-live': 'polite' } });
  const summary = el('p', { class: 'summary', testid: 'compare-summary' });
  const scopeText = el('p', { class: 'muted', testid: 'compare-scope' });

  const columns = ['Metric', 'Images', 'Both right', 'Only a', 'Only b', 'Both wrong', 'a', 'b', 'a − b [95 %]', 'McNemar p', ''];
  const head = columns.map((c) => el('th', { text: c, attrs: { scope: 'col' } }));
  const body = el('tbody');
  const table = el('table', { class: 'data-table compare', testid: 'compare-table' }, el('thead', {}, el('tr', {}, ...head)), body);
  const description = el('p', { class: 'muted', testid: 'compare-description' });
  const boardLink = el('a', { text: 'Back to the leaderboard', attrs: { href: hrefs.leaderboard() } });

  root.append(heading, lead, controls, problemBox, status, summary, scopeText, table, description, el('p', {}, boardLink));

  const rows = mountKeyedList<MetricComparison>(body, (c) => c.metric, (first) => {
    const cells = columns.map(() => el('td', { class: 'number' }));
    cells[0]!.className = '';
    const tr = el('tr', { attrs: { 'data-metric': first.metric } }, ...cells);
    return {
      el: tr,
      update(c) {
        const values = [
          metricName(c.metric), String(c.images), String(c.bothRight), String(c.onlyA), String(c.onlyB), String(c.bothWrong),
          percent(c.accuracyA), percent(c.accuracyB), `${signedPercent(c.difference)} ${intervalText(c.lower, c.upper)}`,
          pValueText(c.pValue).replace(/^p /, ''), c.significant ? 'significant' : 'n.s.',
        ];
        values.forEach((v, i) => setText(cells[i]!, v));
        tr.classList.toggle('not-significant', !c.significant);
      },
    };
  });

  function update(): void {
    problem.update(state.problem);
    pickA.update(state.entries ?? [], state.a);
    pickB.update(state.entries ?? [], state.b);
    subsetOptions.update(state.subsets.includes(state.subset) ? state.subsets : [...state.subsets, state.subset]);
    if (subsetSelect.value !== state.subset) subsetSelect.value = state.subset;
    scope.update({ sets: state.sets, selected: state.imageSet, error: state.setsError });
    lenient.checked = state.unclear === 'correct';

    const r = state.result;
    setText(status, state.loading ? 'Comparing…' : !state.a || !state.b ? 'Choose two entries.' : state.a === state.b ? 'Choose two different entries.' : '');
    setHidden(table, r === null);
    setHidden(summary, r === null);
    if (r) {
      const a = r.a.displayName;
      const b = r.b.displayName;
      setText(heading, `${a} vs ${b}`);
      ctx.setTitle(`${a} vs ${b}`, 'Compare');
      head[6]!.textContent = `a: ${a}`;
      head[7]!.textContent = `b: ${b}`;
      const main = r.comparisons.find((c) => c.metric === 'multilabel') ?? r.comparisons[0];
      setText(summary, main ? compareSummary(main, a, b, r.alpha) : '');
      setText(scopeText, `${r.dataset} · subset ${r.subset} · ${r.imageSet ? `image set '${r.imageSet}'` : 'every image'} · 'unclear' counts ${r.unclear} · label version ${r.labelVersion}`);
      setText(description, r.description);
      rows.update(r.comparisons);
    } else {
      setText(heading, 'Compare two entries');
      setText(summary, '');
      setText(scopeText, '');
      setText(description, '');
      rows.update([]);
    }
  }

  function changed(): void {
    if (state.dataset)
      ctx.replaceQuietly(hrefs.compare(state.dataset, state.a, state.b, { subset: state.subset, imageSet: state.imageSet || null, unclear: state.unclear }));
    void compare();
  }

  let inflight: AbortController | null = null;
  async function compare(): Promise<void> {
    inflight?.abort();
    state.result = null;
    state.problem = null;
    if (!state.a || !state.b || state.a === state.b) {
      state.loading = false;
      update();
      return;
    }
    const controller = childController(ctx.signal);
    inflight = controller;
    state.loading = true;
    update();
    try {
      const query: Record<string, string> = { a: state.a, b: state.b, subset: state.subset, unclear: state.unclear };
      if (state.dataset) query['dataset'] = state.dataset;
      if (state.imageSet) query['imageSet'] = state.imageSet;
      state.result = await api.get('/api/compare', { query: query as { a: string; b: string }, signal: controller.signal });
      state.loading = false;
      update();
    } catch (error) {
      if (isAbortError(error)) return;
      state.loading = false;
      state.problem = toProblem(error);
      update();
    }
  }

  /** The entries to choose from: the board's rows on the same dataset and scope (humans and majority votes too). */
  let entriesRequest: AbortController | null = null;
  async function loadEntries(): Promise<void> {
    entriesRequest?.abort();
    const controller = childController(ctx.signal);
    entriesRequest = controller;
    try {
      const query: Record<string, string> = {};
      if (state.dataset) query['dataset'] = state.dataset;
      if (state.imageSet) query['imageSet'] = state.imageSet;
      const board: Leaderboard = await api.get('/api/leaderboard', { query, signal: controller.signal });
      state.dataset ??= board.dataset;
      state.entries = board.rows.map((r) => ({ slug: r.slug, name: `${r.displayName} (${r.kind})` }));
      state.subsets = board.subsets;
      update();
    } catch (error) {
      if (isAbortError(error)) return;
      state.problem ??= toProblem(error);
      update();
    }
  }

  void (async () => {
    update();
    await loadEntries();
    if (state.dataset) {
      try {
        const { sets, error } = await fetchImageSets(state.dataset, ctx.signal);
        state.sets = sets;
        state.setsError = error;
        update();
      } catch (error) {
        if (!isAbortError(error)) console.warn('Could not list the image sets', error);
      }
    }
  })();
  void compare();
}
