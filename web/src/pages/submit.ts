/**
 * "/submit": an uploader picks (or creates) a model and a dataset, chooses a predictions file (JSON, CSV or
 * NDJSON, optionally gzipped) and uploads it with a progress bar; then sees the result or the table of errors.
 */
import { api, isAbortError, toProblem, uploadPredictions, type UploadProgress } from '../api/client';
import type { Dataset, Model, UploadPredictionsResponse } from '../api/types';
import { childController, el, setAttr, setHidden, setHref, setText } from '../components/dom';
import { mountProblemBox } from '../components/problemBox';
import { mountTable } from '../components/table';
import { formatBytes, formatCount } from '../logic/format';
import type { Problem, ProblemLine } from '../logic/problem';
import { hasRole } from '../logic/roles';
import { hrefs } from '../logic/routes';
import { formatPercent, uploadFormatOf } from '../logic/uploadFormat';
import type { PageContext } from '../pageContext';

const NewModel = '__new__';

interface SubmitState {
  models: Model[] | null;
  datasets: Dataset[] | null;
  uploading: boolean;
  progress: UploadProgress | null;
  result: UploadPredictionsResponse | null;
  problem: Problem | null;
}

export function mountSubmitPage(root: HTMLElement, ctx: PageContext): void {
  ctx.setTitle('Submit predictions');
  const state: SubmitState = { models: null, datasets: null, uploading: false, progress: null, result: null, problem: null };

  const signInNotice = el('p', { class: 'notice', testid: 'submit-sign-in' });
  const signInLink = el('a', { text: 'Sign in' });
  signInNotice.append(signInLink, ' with an uploader account to submit predictions.');

  const modelSelect = el('select', { testid: 'submit-model', attrs: { id: 'submit-model', required: '' } });
  const newSlug = el('input', { testid: 'new-model-slug', attrs: { id: 'new-model-slug', placeholder: 'resnet50', pattern: '[a-z0-9][a-z0-9._\\-]{0,99}' } });
  const newName = el('input', { testid: 'new-model-name', attrs: { id: 'new-model-name', placeholder: 'ResNet-50' } });
  const newKind = el(
    'select',
    { testid: 'new-model-kind', attrs: { id: 'new-model-kind' } },
    el('option', { attrs: { value: 'model' }, text: 'Model trained on ImageNet-1k only' }),
    el('option', { attrs: { value: 'model-extra-data' }, text: 'Model trained with more data' }),
    el('option', { attrs: { value: 'human' }, text: 'Human' }),
    el('option', { attrs: { value: 'ensemble' }, text: 'Ensemble' }),
  );
  const newModel = el(
    'fieldset',
    { class: 'new-model' },
    el('legend', { text: 'New model' }),
    el('div', { class: 'field' }, el('label', { attrs: { for: 'new-model-slug' }, text: 'Slug' }), newSlug),
    el('div', { class: 'field' }, el('label', { attrs: { for: 'new-model-name' }, text: 'Display name' }), newName),
    el('div', { class: 'field' }, el('label', { attrs: { for: 'new-model-kind' }, text: 'Kind' }), newKind),
  );
  const datasetSelect = el('select', { testid: 'submit-dataset', attrs: { id: 'submit-dataset', required: '' } });
  const file = el('input', {
    testid: 'submit-file',
    attrs: { id: 'submit-file', type: 'file', required: '', accept: '.json,.csv,.ndjson,.jsonl,.gz' },
  });
  const labels = el(
    'select',
    { testid: 'submit-labels', attrs: { id: 'submit-labels' } },
    el('option', { attrs: { value: 'wnid' }, text: 'wnids (n01440764)' }),
    el('option', { attrs: { value: 'index' }, text: 'class indices (0-999)' }),
  );
  const partial = el('input', { testid: 'submit-partial', attrs: { id: 'submit-partial', type: 'checkbox' } });
  const submit = el('button', { class: 'button button-primary', testid: 'submit-upload', attrs: { type: 'submit' }, text: 'Upload' });
  // Checks the whole file on the server without storing anything (?dryRun=true).
  const check = el('button', { class: 'button', testid: 'submit-check', attrs: { type: 'button' }, text: 'Check only' });
  const template = el('a', { testid: 'submit-template', attrs: { download: '' }, text: 'Download a template' });
  const templateNote = el('span', { class: 'muted' });
  const progress = el('progress', { testid: 'submit-progress', attrs: { max: '1', value: '0' } });
  const progressText = el('span', { class: 'status', attrs: { 'aria-live': 'polite' } });
  const progressRow = el('div', { class: 'upload-progress' }, progress, progressText);

  const form = el(
    'form',
    { class: 'form', testid: 'submit-form' },
    el('div', { class: 'field' }, el('label', { attrs: { for: 'submit-model' }, text: 'Model' }), modelSelect),
    newModel,
    el('div', { class: 'field' }, el('label', { attrs: { for: 'submit-dataset' }, text: 'Dataset' }), datasetSelect),
    el(
      'div',
      { class: 'field' },
      el('label', { attrs: { for: 'submit-file' }, text: 'Predictions file (JSON, CSV or NDJSON; .gz accepted)' }),
      file,
    ),
    el('div', { class: 'field' }, el('label', { attrs: { for: 'submit-labels' }, text: 'Labels are' }), labels),
    el('div', { class: 'field field-inline' }, partial, el('label', { attrs: { for: 'submit-partial' }, text: 'Only some images (partial)' })),
    el('p', {}, template, ' ', templateNote),
    el('div', { class: 'form-actions' }, submit, check),
    progressRow,
  );

  const result = el('section', { class: 'section upload-result', testid: 'submit-result' });
  const resultHeading = el('h2');
  const resultList = el('dl', { class: 'facts' });
  const modelLink = el('a', { text: 'See the model and its uploads' });
  result.append(resultHeading, resultList, el('p', {}, modelLink));

  root.append(
    el('h1', { text: 'Submit predictions' }),
    el('p', {
      class: 'lead',
      text: 'Every image of the dataset with 1 to 5 ranked labels. Uploading replaces the model’s predictions on that dataset as one step.',
    }),
    signInNotice,
    form,
  );
  const problem = mountProblemBox(root);
  const errorTable = mountTable<ProblemLine & { index: number }>(root, {
    testid: 'submit-errors',
    caption: 'Errors (row or line, field, message)',
    key: (e) => String(e.index),
    columns: [
      { header: 'Row', cell: (e) => (e.line === null || e.line === 0 ? '' : formatCount(e.line)), class: 'number' },
      { header: 'Field', cell: (e) => e.field ?? '' },
      { header: 'Message', cell: (e) => e.message },
    ],
  });
  root.append(result);

  // The page preselects a model and a dataset once their lists arrive, unless the user has chosen already.
  const preselected = { model: false, dataset: false };
  modelSelect.addEventListener('change', () => {
    preselected.model = true;
    update();
  });
  file.addEventListener('change', () => {
    state.problem = null;
    state.result = null;
    update();
  });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (state.uploading) return;
    void upload(false);
  });
  check.addEventListener('click', () => {
    if (state.uploading) return;
    void upload(true);
  });
  datasetSelect.addEventListener('change', () => {
    preselected.dataset = true;
    update();
  });

  async function createModel(signal: AbortSignal): Promise<string> {
    const created = await api.post('/api/models', {
      body: { slug: newSlug.value.trim(), displayName: newName.value.trim(), kind: newKind.value },
      signal,
    });
    state.models = [...(state.models ?? []), created];
    return created.slug;
  }

  async function upload(dryRun: boolean): Promise<void> {
    const chosen = file.files?.[0];
    const format = chosen ? uploadFormatOf(chosen.name) : null;
    state.result = null;
    state.problem = null;
    if (!chosen || !format) {
      state.problem = {
        status: 0,
        title: 'Choose a predictions file',
        detail: 'A .json, .csv, .ndjson or .jsonl file, optionally gzipped (.gz).',
        errors: [],
        errorCount: 0,
        traceId: null,
      };
      update();
      return;
    }
    const request = childController(ctx.signal);
    state.uploading = true;
    state.progress = { loaded: 0, total: chosen.size };
    update();
    try {
      const isNew = modelSelect.value === NewModel;
      const send = (model: string, check: boolean) =>
        uploadPredictions(model, datasetSelect.value, chosen, format, {
          labels: labels.value === 'index' ? 'index' : 'wnid',
          partial: partial.checked,
          dryRun: check,
          signal: request.signal,
          onProgress: (p) => {
            state.progress = p;
            update();
          },
        });
      // A new model is made only once its first file passed the checks: no empty model is left behind by a bad file.
      const checked = isNew ? await send(newSlug.value.trim(), true) : null;
      if (dryRun && checked) state.result = checked;
      else if (dryRun) state.result = await send(modelSelect.value, true);
      else {
        const model = isNew ? await createModel(request.signal) : modelSelect.value;
        // A new model's option must exist before it can be selected; else the next upload goes to the first model listed.
        update();
        modelSelect.value = model;
        const stored = await send(model, false);
        state.result = stored;
        // The model now has predictions there: its template becomes its own file.
        state.models = (state.models ?? []).map((m) =>
          m.slug === stored.model && !m.datasets.includes(stored.dataset) ? { ...m, datasets: [...m.datasets, stored.dataset] } : m,
        );
      }
    } catch (error) {
      if (isAbortError(error) || ctx.signal.aborted) return;
      state.problem = toProblem(error);
    }
    state.uploading = false;
    update();
  }

  function fillSelect(select: HTMLSelectElement, options: readonly { value: string; text: string }[]): void {
    const key = options.map((o) => `${o.value}\u0000${o.text}`).join('\u0001');
    if (select.dataset['key'] === key) return;
    const selected = select.value;
    select.replaceChildren(...options.map((o) => el('option', { attrs: { value: o.value }, text: o.text })));
    select.dataset['key'] = key;
    if (options.some((o) => o.value === selected)) select.value = selected;
  }

  let shownResult: UploadPredictionsResponse | null = null;
  function update(): void {
    const session = ctx.session.state;
    const user = session.status === 'signed-in' ? session.user : null;
    const mayUpload = user !== null && hasRole(user.roles, 'uploader');
    setHidden(signInNotice, mayUpload || session.status === 'unknown');
    setHref(signInLink, hrefs.signIn(hrefs.submit()));
    setHidden(form, !mayUpload);

    const mine = (state.models ?? []).filter((m) => user !== null && (m.owner === user.name || hasRole(user.roles, 'admin')));
    fillSelect(modelSelect, [
      ...mine.map((m) => ({ value: m.slug, text: `${m.displayName} (${m.slug})` })),
      { value: NewModel, text: 'New model…' },
    ]);
    if (state.models !== null && !preselected.model && mine.length > 0) {
      // The uploader's most recently changed model first.
      preselected.model = true;
      modelSelect.value = [...mine].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))[0]!.slug;
    }
    setHidden(newModel, modelSelect.value !== NewModel);
    fillSelect(datasetSelect, (state.datasets ?? []).map((d) => ({ value: d.slug, text: `${d.name} (${formatCount(d.imageCount)} images)` })));
    if (state.datasets !== null && !preselected.dataset) {
      // A dataset with images: the featured one, else the one with the most entries.
      preselected.dataset = true;
      const withImages = state.datasets.filter((d) => d.imageCount > 0);
      const best = [...withImages].sort((a, b) => Number(b.featured) - Number(a.featured) || b.entries - a.entries)[0];
      if (best) datasetSelect.value = best.slug;
    }
    const chosenModel = (state.models ?? []).find((m) => m.slug === modelSelect.value);
    const fromModel = chosenModel !== undefined && chosenModel.datasets.includes(datasetSelect.value);
    setAttr(
      template,
      'href',
      datasetSelect.value === ''
        ? null
        : fromModel
          ? `/api/models/${encodeURIComponent(chosenModel.slug)}/predictions/${encodeURIComponent(datasetSelect.value)}?format=csv`
          : `/api/datasets/${encodeURIComponent(datasetSelect.value)}/prediction-template`,
    );
    setText(
      templateNote,
      fromModel
        ? '(CSV: this model’s current predictions on the dataset, to edit and upload again.)'
        : '(CSV: image,label1,…,label5 with every image of the dataset; empty trailing label cells are fine.)',
    );

    submit.disabled = state.uploading;
    check.disabled = state.uploading;
    setText(submit, state.uploading ? 'Uploading…' : 'Upload');
    setHidden(progressRow, state.progress === null);
    if (state.progress) {
      const { loaded, total } = state.progress;
      const fraction = total > 0 ? Math.min(1, loaded / total) : 0;
      progress.value = fraction;
      setText(
        progressText,
        !state.uploading
          ? state.problem
            ? 'Upload failed.'
            : 'Done.'
          : fraction < 1
            ? `Sent ${formatBytes(loaded)} of ${formatBytes(total)} (${formatPercent(fraction)})`
            : 'Sent; the server is checking and storing the predictions…',
      );
    }

    problem.update(state.problem === null ? null : { ...state.problem, errors: [] });
    errorTable.update((state.problem?.errors ?? []).map((e, index) => ({ ...e, index })));

    const r = state.result;
    setHidden(result, r === null);
    if (r && r !== shownResult) {
      shownResult = r;
      setText(
        resultHeading,
        r.dryRun
          ? r.outcome === 'unchanged'
            ? 'Checked: the file is valid and identical to the current predictions (nothing stored)'
            : 'Checked: the file is valid (nothing stored yet; upload it to store it)'
          : r.outcome === 'unchanged'
            ? 'Unchanged: identical to the current predictions'
            : 'Predictions stored',
      );
      resultList.replaceChildren(
        ...(
          [
            ['Model / dataset', `${r.model} / ${r.dataset}`],
            ['Images', formatCount(r.images)],
            ['Labels', `${formatCount(r.labels)} (top-${r.k})`],
            ['Coverage', `${formatPercent(r.coverage)} of ${formatCount(r.datasetImages)} images`],
            ['New for review', formatCount(r.newForReview)],
            ['Upload', r.dryRun ? `check only · ${(r.elapsedMs / 1000).toFixed(2)} s` : `#${r.uploadId} · ${(r.elapsedMs / 1000).toFixed(2)} s`],
            ['Checksum', r.checksum],
          ] as const
        ).flatMap(([term, value]) => [el('dt', { text: term }), el('dd', { text: value })]),
      );
      setHref(modelLink, hrefs.model(r.model));
    }
  }

  ctx.session.subscribe(update, ctx.signal);
  api
    .get('/api/models', { signal: ctx.signal })
    .then((models) => {
      state.models = models;
      update();
    })
    .catch(fail);
  api
    .get('/api/datasets', { signal: ctx.signal })
    .then((datasets) => {
      state.datasets = datasets;
      update();
    })
    .catch(fail);

  function fail(error: unknown): void {
    if (isAbortError(error) || ctx.signal.aborted) return;
    state.problem ??= toProblem(error);
    update();
  }
}
