/** "/browse": pick a dataset. */
import { api, isAbortError, toProblem } from '../api/client';
import type { Dataset } from '../api/types';
import { mountDatasetPicker } from '../components/datasetPicker';
import { el, setHidden } from '../components/dom';
import { mountProblemBox } from '../components/problemBox';
import type { Problem } from '../logic/problem';
import type { PageContext } from '../pageContext';

export function mountBrowsePage(root: HTMLElement, ctx: PageContext): void {
  ctx.setTitle('Browse');
  const state: { datasets: Dataset[] | null; problem: Problem | null } = { datasets: null, problem: null };

  const loading = el('p', { class: 'status', text: 'Loading datasets…' });
  root.append(el('h1', { text: 'Browse' }), el('p', { class: 'lead', text: 'Pick a dataset to see its classes and images.' }), loading);
  const problem = mountProblemBox(root);
  const picker = mountDatasetPicker(root);

  function update(): void {
    setHidden(loading, state.datasets !== null || state.problem !== null);
    problem.update(state.problem);
    picker.update(state.datasets);
  }

  update();
  api
    .get('/api/datasets', { signal: ctx.signal })
    .then((datasets) => {
      state.datasets = datasets;
    })
    .catch((error: unknown) => {
      if (isAbortError(error)) return;
      state.problem = toProblem(error);
    })
    .finally(() => {
      if (!ctx.signal.aborted) update();
    });
}
