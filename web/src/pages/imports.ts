/**
 * "/imports" (admins): import a multi-label release, rater or expert votes, or reference labels into a dataset, or
 * a portable bundle from another Relabel; the import is checked at once (errors with their files and lines) and
 * written by a background job whose progress is shown; download a dataset's bundle and published formats; then run
 * the Dawid-Skene aggregation and read each rater's quality.
 */
import { api, isAbortError, sendImportFile, toProblem } from '../api/client';
import type { Dataset, JobResponse } from '../api/types';
import { childController, el, setAttr, setHidden, setHref, setText } from '../components/dom';
import { mountProblemBox } from '../components/problemBox';
import { mountTable } from '../components/table';
import { describeJob, exportLinks, importKinds, importTarget, needsDataset, type ImportKind } from '../logic/imports';
import { hasRole } from '../logic/roles';
import type { PageContext } from '../pageContext';

interface RaterRow { rater: string; kind: string; votes: number; controlVotes: number; controlAccuracy?: number | null; consensusAgreement?: number | null }

const percent = (x: number | null | undefined): string => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)} %`);

export function mountImportsPage(root: HTMLElement, ctx: PageContext): void {
  ctx.setTitle('Imports');
  const notice = el('p', { class: 'notice', text: 'Sign in as an admin to import labels and votes.' });
  const datasetSelect = el('select', { testid: 'import-dataset', attrs: { id: 'import-dataset' } });
  const kindSelect = el('select', { testid: 'import-kind', attrs: { id: 'import-kind' } },
    ...importKinds.map((k) => el('option', { text: k.label, attrs: { value: k.kind } })));
  const source = el('input', { testid: 'import-source', attrs: { id: 'import-source', placeholder: 'icml2020' } });
  const file = el('input', { testid: 'import-file', attrs: { id: 'import-file', type: 'file', required: '' } });
  const start = el('button', { testid: 'import-start', text: 'Import', attrs: { type: 'submit' } });
  const field = (label: string, id: string, control: HTMLElement, hint?: string): HTMLElement =>
    el('div', { class: 'form-field' }, el('label', { text: label, attrs: { for: id } }), control,
      ...(hint ? [el('small', { class: 'muted', text: hint })] : []));
  const form = el('form', { class: 'form-grid', testid: 'import-form' },
    el('fieldset', {},
      el('legend', { text: 'Import into Relabel' }),
      field('Dataset', 'import-dataset', datasetSelect),
      field('What', 'import-kind', kindSelect),
      field('Source name', 'import-source', source, 'For multi-label releases: names where the verdicts came from.'),
      field('File', 'import-file', file, 'A .gz file is sent compressed.'),
      el('div', { class: 'form-actions' }, start)));

  const progress = el('progress', { testid: 'job-progress', attrs: { max: '1', value: '0' } });
  const progressText = el('span', { testid: 'job-status' });
  const progressRow = el('div', { class: 'upload-progress' }, progress, progressText);
  progressRow.hidden = true;
  const result = el('pre', { class: 'job-result', testid: 'job-result' });
  result.hidden = true;

  const downloads = exportLinks('').map((link) => el('a', { text: link.label, testid: `export-${link.key}`, attrs: { download: link.fileName } }));
  const exports = el('section', { testid: 'exports' },
    el('h2', { text: 'Export' }),
    el('p', { text: 'Downloads of the chosen dataset. The bundle holds everything its leaderboard is computed from (no image pixels); import it on another Relabel above.' }),
    el('ul', {}, ...downloads.map((a) => el('li', {}, a))));

  const threshold = el('input', { testid: 'aggregate-threshold', attrs: { id: 'aggregate-threshold', type: 'number', min: '0.51', max: '0.99', step: '0.01', value: '0.9' } });
  const apply = el('input', { testid: 'aggregate-apply', attrs: { id: 'aggregate-apply', type: 'checkbox' } });
  const aggregate = el('button', { testid: 'aggregate-start', text: 'Aggregate votes (Dawid-Skene)', attrs: { type: 'button' } });
  const summary = el('p', { testid: 'aggregate-summary' });
  const aggregation = el('section', {},
    el('h2', { text: 'Aggregation of rater votes' }),
    el('div', { class: 'form-grid' },
      field('Threshold', 'aggregate-threshold', threshold, 'The posterior a label needs to be decided (0.51 to 0.99).'),
      el('div', { class: 'form-field form-check' }, apply, el('label', { text: 'Make the outcomes the labels', attrs: { for: 'aggregate-apply' } })),
      el('div', { class: 'form-actions' }, aggregate)),
    summary);

  const body = el('div', {}, form, progressRow, result, exports, aggregation);
  root.append(el('h1', { text: 'Imports' }), notice, body);
  const problems = mountProblemBox(body);
  body.insertBefore(progressRow, exports);
  const raters = mountTable<RaterRow>(aggregation, {
    testid: 'rater-quality',
    caption: 'Raters: accuracy on control questions and agreement with the aggregated labels',
    key: (r) => r.rater,
    columns: [
      { header: 'Rater', cell: (r) => r.rater },
      { header: 'Votes', cell: (r) => r.votes.toLocaleString('en'), class: 'number' },
      { header: 'Control votes', cell: (r) => r.controlVotes.toLocaleString('en'), class: 'number' },
      { header: 'Control accuracy', cell: (r) => percent(r.controlAccuracy), class: 'number' },
      { header: 'Agreement', cell: (r) => percent(r.consensusAgreement), class: 'number' },
    ],
  });

  let loaded = false;
  ctx.session.subscribe((state) => {
    const isAdmin = state.status === 'signed-in' && hasRole(state.user.roles, 'admin');
    setHidden(notice, isAdmin);
    setHidden(body, !isAdmin);
    if (!isAdmin || loaded) return;
    loaded = true;
    loadDatasets();
  }, ctx.signal);

  function loadDatasets(): void {
    const chosen = datasetSelect.value;
    api.get('/api/datasets', { signal: ctx.signal }).then((datasets: Dataset[]) => {
      datasetSelect.replaceChildren(...datasets.map((d) => el('option', { text: `${d.name} (${d.slug})`, attrs: { value: d.slug } })));
      if (datasets.some((d) => d.slug === chosen)) datasetSelect.value = chosen;
      showExports();
      void showAggregation();
    }, (error: unknown) => { if (!isAbortError(error)) problems.update(toProblem(error)); });
  }

  const dataset = (): string => datasetSelect.value;
  const kind = (): ImportKind => kindSelect.value as ImportKind;
  datasetSelect.addEventListener('change', () => {
    showExports();
    void showAggregation();
  });
  kindSelect.addEventListener('change', () => { datasetSelect.disabled = !needsDataset(kind()); });

  function showExports(): void {
    setHidden(exports, dataset() === '');
    exportLinks(dataset()).forEach((link, i) => {
      const anchor = downloads[i]!;
      setHref(anchor, link.href);
      setAttr(anchor, 'download', link.fileName);
    });
  }

  /** Follows a job until it ends, showing its progress. */
  async function follow(jobId: number, signal: AbortSignal): Promise<JobResponse> {
    setHidden(progressRow, false);
    for (;;) {
      const job = await api.get('/api/jobs/{id}', { path: { id: jobId }, signal });
      const view = describeJob(job);
      progress.value = view.fraction;
      setText(progressText, view.text);
      if (job.status === 'succeeded' || job.status === 'failed') return job;
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen || (needsDataset(kind()) && dataset() === '')) return;
    const controller = childController(ctx.signal);
    const importing = kind();
    const target = importTarget(importing, dataset(), chosen.name, source.value.trim());
    start.disabled = true;
    problems.update(null);
    setHidden(result, true);
    setText(progressText, 'Checking…');
    setHidden(progressRow, false);
    progress.removeAttribute('value');
    sendImportFile(target.method, target.path, chosen, target.contentType, target.gzip, controller.signal)
      .then(async (started) => {
        if (started.status === 202) {
          const job = await follow(started.job.jobId, controller.signal);
          setText(result, JSON.stringify(job.result ?? job.message, null, 2));
          // A bundle may have brought new datasets.
          if (importing === 'bundle' && job.status === 'succeeded') loadDatasets();
        } else {
          progress.value = 1;
          setText(progressText, 'Done.');
          setText(result, JSON.stringify(started.body, null, 2));
        }
        setHidden(result, false);
      })
      .catch((error: unknown) => {
        if (isAbortError(error)) return;
        setHidden(progressRow, true);
        problems.update(toProblem(error));
      })
      .finally(() => { start.disabled = false; });
  });

  aggregate.addEventListener('click', () => {
    const controller = childController(ctx.signal);
    aggregate.disabled = true;
    problems.update(null);
    api.post('/api/datasets/{slug}/aggregation', {
      path: { slug: dataset() },
      body: { threshold: Number(threshold.value), apply: apply.checked },
      signal: controller.signal,
    })
      .then(async (started) => {
        const job = await follow(started.jobId, controller.signal);
        if (job.status === 'succeeded') await showAggregation();
      })
      .catch((error: unknown) => { if (!isAbortError(error)) problems.update(toProblem(error)); })
      .finally(() => { aggregate.disabled = false; });
  });

  async function showAggregation(): Promise<void> {
    if (dataset() === '') return;
    try {
      const report = (await api.get('/api/datasets/{slug}/aggregation', { path: { slug: dataset() }, signal: ctx.signal })) as unknown as {
        iterations: number; converged: boolean; votes: number; correct: number; wrong: number; unclear: number; threshold: number;
        raters: RaterRow[]; reference?: { images: number; identicalShare: number; precision: number; recall: number } | null;
      };
      const reference = report.reference
        ? ` Against the reference labels on ${report.reference.images.toLocaleString('en')} images: identical sets ${percent(report.reference.identicalShare)}, precision ${percent(report.reference.precision)}, recall ${percent(report.reference.recall)}.`
        : '';
      setText(summary, `Dawid-Skene over ${report.votes.toLocaleString('en')} votes, threshold ${report.threshold}: ${report.iterations} iterations${report.converged ? ', converged' : ''}; ${report.correct.toLocaleString('en')} correct, ${report.wrong.toLocaleString('en')} wrong, ${report.unclear.toLocaleString('en')} unclear.${reference}`);
      raters.update(report.raters);
    } catch (error) {
      if (isAbortError(error)) return;
      setText(summary, 'Not aggregated yet.');
      raters.update([]);
    }
  }
}
