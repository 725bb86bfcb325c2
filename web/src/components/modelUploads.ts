/** A model's description, the datasets it has predictions on, and its upload history (a section of the model page). */
import { api, isAbortError, toProblem } from '../api/client';
import type { Model, PredictionSet, PredictionUploadRecord } from '../api/types';
import { el, setHidden, setHref, setText } from './dom';
import { mountProblemBox } from './problemBox';
import { mountTable } from './table';
import { formatCount } from '../logic/format';
import type { Problem } from '../logic/problem';
import { formatPercent } from '../logic/uploadFormat';

const KindNames: Record<string, string> = {
  model: 'Model (ImageNet-1k only)',
  'model-extra-data': 'Model trained with more data',
  human: 'Human',
  ensemble: 'Ensemble',
};

export function mountModelUploads(root: HTMLElement, route: { slug: string }, signal: AbortSignal): void {
  const state: { model: Model | null; sets: PredictionSet[]; uploads: PredictionUploadRecord[]; problem: Problem | null } = {
    model: null,
    sets: [],
    uploads: [],
    problem: null,
  };

  // The page's one H1 is the model page's; this section is "About".
  const heading = el('h2', { text: 'About the model' });
  const facts = el('p', { class: 'lead', testid: 'model-facts' });
  const description = el('p', { class: 'model-description' });
  const links = el('p', { class: 'model-links' });
  const paper = el('a', { text: 'Paper', attrs: { rel: 'noopener noreferrer' } });
  const code = el('a', { text: 'Code', attrs: { rel: 'noopener noreferrer' } });
  links.append(paper, ' ', code);
  root.append(heading, facts, description, links);
  const problem = mountProblemBox(root);

  root.append(el('h2', { text: 'Predictions' }));
  const noSets = el('p', { class: 'empty', text: 'No predictions yet.' });
  root.append(noSets);
  const sets = mountTable<PredictionSet>(root, {
    testid: 'model-sets',
    key: (s) => s.dataset,
    columns: [
      { header: 'Dataset', cell: (s) => s.dataset },
      { header: 'k', cell: (s) => String(s.k), class: 'number' },
      { header: 'Images', cell: (s) => formatCount(s.rows), class: 'number' },
      { header: 'Coverage', cell: (s) => formatPercent(s.coverage), class: 'number' },
      { header: 'Updated', cell: (s) => new Date(s.updatedAt).toLocaleString() },
    ],
  });

  root.append(el('h2', { text: 'Uploads' }));
  const noUploads = el('p', { class: 'empty', text: 'No uploads yet.' });
  root.append(noUploads);
  const uploads = mountTable<PredictionUploadRecord>(root, {
    testid: 'model-uploads',
    key: (u) => String(u.id),
    columns: [
      { header: '#', cell: (u) => String(u.id), class: 'number' },
      { header: 'When', cell: (u) => new Date(u.createdAt).toLocaleString() },
      { header: 'By', cell: (u) => u.uploadedBy },
      { header: 'Dataset', cell: (u) => u.dataset },
      { header: 'Format', cell: (u) => u.format },
      { header: 'Rows', cell: (u) => formatCount(u.rows), class: 'number' },
      { header: 'k', cell: (u) => String(u.k), class: 'number' },
      { header: 'Outcome', cell: (u) => (u.current ? `${u.outcome} (current)` : u.outcome) },
      { header: 'Checksum', cell: (u) => u.checksum.slice(0, 12), class: 'checksum' },
      { header: 'Time', cell: (u) => `${(u.elapsedMs / 1000).toFixed(2)} s`, class: 'number' },
    ],
  });

  function update(): void {
    const m = state.model;
    setText(
      facts,
      m
        ? [
            KindNames[m.kind] ?? m.kind,
            m.parameterCount === null || m.parameterCount === undefined ? null : `${formatCount(m.parameterCount)} parameters`,
            m.trainingData ? `trained on ${m.trainingData}` : null,
            `owner ${m.owner}`,
            m.tags.length > 0 ? `tags: ${m.tags.join(', ')}` : null,
          ]
            .filter((p): p is string => p !== null)
            .join(' · ')
        : '',
    );
    setText(description, m?.description ?? '');
    setHidden(description, !m?.description);
    if (m?.paperUrl) setHref(paper, m.paperUrl);
    setHidden(paper, !m?.paperUrl);
    if (m?.codeUrl) setHref(code, m.codeUrl);
    setHidden(code, !m?.codeUrl);
    problem.update(state.problem);
    sets.update(state.sets);
    setHidden(noSets, state.model === null || state.sets.length > 0);
    uploads.update(state.uploads);
    setHidden(noUploads, state.model === null || state.uploads.length > 0);
  }

  function fail(error: unknown): void {
    if (isAbortError(error) || signal.aborted) return;
    state.problem ??= toProblem(error);
    update();
  }

  const path = { slug: route.slug };
  api.get('/api/models/{slug}', { path, signal }).then((model) => {
    state.model = model;
    update();
  }, fail);
  api.get('/api/models/{slug}/predictions', { path, signal }).then((rows) => {
    state.sets = rows;
    update();
  }, fail);
  api.get('/api/models/{slug}/uploads', { path, signal }).then((rows) => {
    state.uploads = rows;
    update();
  }, fail);
  update();
}
