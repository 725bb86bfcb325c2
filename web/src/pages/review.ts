/**
 * "/review?dataset=…[&subset=…&mode=…]": the review tool. One image large, one row per candidate label with five
 * choices, the problematic flag; keyboard first (1-4 and 0 choose, j/k or arrows move, Enter submits, p flags,
 * u undoes the last submit). The next image is fetched while the reviewer works, so the switch is instant.
 * Links switch between the pending, conflicts and problematic queues; admins also give the final word on a label
 * (adjudication) and see who stands on what behind a conflict.
 */
import { api, ApiError, isAbortError, toProblem } from '../api/client';
import type { Dataset, GuideNote, ReviewImage, ReviewLabel, ReviewProgress, SubmitReviewResponse } from '../api/types';
import { ADJUDICATIONS, itemVerdicts, parseMode, REVIEW_MODES, verdictsLine, type AdjudicationVerdict, type ItemVerdicts, type ReviewMode } from '../logic/adjudication';
import { el, setAttr, setHidden, setText } from '../components/dom';
import { mountExampleStrip } from '../components/exampleStrip';
import { mountKeyedList } from '../components/keyedList';
import { renderMarkdown } from '../components/markdownView';
import { mountProblemBox } from '../components/problemBox';
import { formatCount } from '../logic/format';
import type { Problem } from '../logic/problem';
import { buildSubmission, buildUndo, CHOICES, FLAG_REASONS, keyAction, standingChoice, type Choice, type FlagDraft, type Submission } from '../logic/review';
import { hasRole } from '../logic/roles';
import { hrefs, imageFileUrl } from '../logic/routes';
import type { PageContext } from '../pageContext';

interface LastSubmit {
  readonly before: ReviewImage;
  readonly sent: Submission;
  readonly response: SubmitReviewResponse;
}

type Prefetch = Promise<ReviewImage | null>;

export function mountReviewPage(root: HTMLElement, ctx: PageContext): void {
  ctx.setTitle('Review');
  const params = new URLSearchParams(ctx.location().split('?')[1]?.split('#')[0] ?? '');
  const dataset = params.get('dataset');
  const subset = params.get('subset');
  const mode = parseMode(params.get('mode'));

  const message = el('p', { class: 'lead' });
  const signIn = el('a', { attrs: { href: hrefs.signIn(ctx.location()) }, text: 'Sign in' });
  const signInHint = el('p', {}, signIn, ' as a reviewer to review labels.');
  const picker = el('ul', { class: 'dataset-links', testid: 'review-datasets' });
  const problem = el('div');
  root.append(el('h1', { text: 'Review' }), message, signInHint, picker, problem);
  const problemBox = mountProblemBox(problem);
  const workspace = el('div', { class: 'review', testid: 'review-panel' });
  workspace.hidden = true;
  root.append(workspace);

  let started = false;
  ctx.session.subscribe((state) => {
    const reviewer = state.status === 'signed-in' && hasRole(state.user.roles, 'reviewer');
    setText(
      message,
      reviewer
        ? dataset
          ? ''
          : 'Choose a dataset to review.'
        : state.status === 'signed-in'
          ? `You are signed in as ${state.user.displayName || state.user.name}, who is not a reviewer.`
          : 'Reviewers judge which labels each image deserves.',
    );
    setHidden(message, reviewer && dataset !== null);
    setHidden(signInHint, reviewer || state.status === 'unknown');
    if (reviewer && !started) {
      started = true;
      if (dataset) startReview(dataset);
      else listDatasets();
    }
  }, ctx.signal);

  function listDatasets(): void {
    api
      .get('/api/datasets', { signal: ctx.signal })
      .then((datasets: Dataset[]) => {
        picker.replaceChildren(
          ...datasets.map((d) =>
            el('li', { attrs: { 'data-slug': d.slug } }, el('a', { attrs: { href: hrefs.reviewQueue(d.slug) }, text: d.name })),
          ),
        );
      })
      .catch((error: unknown) => {
        if (!isAbortError(error)) problemBox.update(toProblem(error));
      });
  }

  function startReview(slug: string): void {
    ctx.setTitle('Review', slug);
    const isAdmin = (): boolean => {
      const state = ctx.session.state;
      return state.status === 'signed-in' && hasRole(state.user.roles, 'admin');
    };
    mountWorkspace(workspace, ctx, { dataset: slug, subset, mode }, problemBox, isAdmin);
  }
}

interface Query {
  readonly dataset: string;
  readonly subset: string | null;
  readonly mode: ReviewMode;
}

function mountWorkspace(
  root: HTMLElement,
  ctx: PageContext,
  query: Query,
  problemBox: { update(p: Problem | null): void },
  isAdmin: () => boolean,
): void {
  // --- State ---
  let current: ReviewImage | null = null;
  let prefetch: Prefetch | null = null;
  let choices = new Map<number, Choice>();
  let focus = 0;
  let flag: FlagDraft = { problematic: false, reason: null, note: '' };
  let shownAt = performance.now();
  let busy = false;
  let last: LastSubmit | null = null;
  let progress: ReviewProgress | null = null;
  let today = 0;
  let submits = 0;
  let status = '';
  let empty = false;
  /** Who stands on what for the current image's items; loaded for admins only. */
  let standing: { readonly imageId: number; readonly items: ReadonlyMap<number, ItemVerdicts> } | null = null;

  // --- Markup ---
  // Links, not buttons: each queue has its own address, and the keyboard shortcuts stay with the review.
  const modes = el(
    'nav',
    { class: 'review-modes', testid: 'review-modes', attrs: { 'aria-label': 'Review queue' } },
    ...REVIEW_MODES.map((m) =>
      el('a', {
        class: 'review-mode',
        attrs: {
          href: hrefs.reviewQueue(query.dataset, { subset: query.subset, mode: m.value }),
          'data-mode': m.value,
          ...(m.value === query.mode ? { 'aria-current': 'page' } : {}),
        },
        text: m.label,
      }),
    ),
  );
  const progressBar = el('progress', { testid: 'review-progress', attrs: { max: '1', value: '0' } });
  const progressText = el('span', { class: 'muted' });
  const todayText = el('span', { testid: 'review-today' });
  const bar = el('div', { class: 'review-bar' }, progressBar, ' ', progressText, ' · ', todayText);

  const picture = el('img', { class: 'review-image', testid: 'review-image', attrs: { alt: '', decoding: 'async' } });
  const fileToggle = el('input', { testid: 'show-file-name', attrs: { type: 'checkbox' } });
  const fileName = el('code', { testid: 'review-file-name' });
  const original = el('p', { class: 'review-original', testid: 'review-original' });
  const figure = el('figure', { class: 'review-figure' }, picture,
    el('figcaption', {}, el('label', {}, fileToggle, ' show file name'), ' ', fileName), original);

  const rows = el('ol', { class: 'review-rows', testid: 'review-rows' });
  const flagBox = el('input', { testid: 'review-flag', attrs: { type: 'checkbox' } });
  const reason = el('select', { testid: 'review-flag-reason' }, ...FLAG_REASONS.map((r) => el('option', { attrs: { value: r.value }, text: r.label })));
  const flagNote = el('input', { testid: 'review-flag-note', attrs: { type: 'text', placeholder: 'Note (needed for "other")', maxlength: '5000' } });
  const flagRow = el('fieldset', { class: 'review-flag' },
    el('legend', { text: 'Image' }), el('label', {}, flagBox, ' Problematic (p)'), ' ', reason, ' ', flagNote);
  const submit = el('button', { class: 'button button-primary', testid: 'review-submit', attrs: { type: 'button' }, text: 'Submit and next (Enter)' });
  const undo = el('button', { class: 'button', testid: 'review-undo', attrs: { type: 'button' }, text: 'Undo last submit (u)' });
  const statusLine = el('p', { class: 'review-status', testid: 'review-status', attrs: { role: 'status', 'aria-live': 'polite' } });
  const help = el('p', { class: 'muted', text: 'Keys: 1 correct · 2 wrong · 3 unclear · 4 don\'t know · 0 unreviewed · j/k or ↑/↓ move · Enter submit · p problematic · u undo' });
  const side = el('div', { class: 'review-side' }, rows, flagRow, el('p', { class: 'review-actions' }, submit, ' ', undo), statusLine, help);
  const emptyText = el('p', { class: 'lead', testid: 'review-empty', text: REVIEW_MODES.find((m) => m.value === query.mode)?.empty ?? '' });
  const layout = el('div', { class: 'review-layout' }, figure, side);
  root.append(modes, bar, layout, emptyText);
  root.hidden = false;

  // --- Label rows ---
  const list = mountKeyedList<{ label: ReviewLabel; index: number }>(
    rows,
    (v) => String(v.label.itemId),
    (initial) => {
      const itemId = initial.label.itemId;
      const lemma = el('strong', { class: 'label-lemma' });
      const wnid = el('code');
      const badge = el('span', { class: 'badge', text: 'original' });
      const models = el('span', { class: 'muted' });
      const state = el('span', { class: 'state' });
      const gloss = el('p', { class: 'gloss' });
      const notes = el('div', { class: 'guide-notes', testid: 'guide-notes' });
      const examples = el('div', { class: 'examples' });
      const strip = mountExampleStrip(examples, ctx.signal);
      const radios = CHOICES.map((c) => {
        const input = el('input', { attrs: { type: 'radio', name: `choice-${itemId}`, value: c.value } });
        input.addEventListener('change', () => {
          choices.set(itemId, c.value);
          focus = current?.labels.findIndex((l) => l.itemId === itemId) ?? 0;
          render();
        });
        return { choice: c.value, input, label: el('label', { class: `choice choice-${c.value}` }, input, ` ${c.label} `, el('kbd', { text: c.key })) };
      });
      const group = el('div', { class: 'choices', attrs: { role: 'radiogroup' } }, ...radios.map((r) => r.label));
      const verdicts = el('p', { class: 'review-verdicts', testid: 'review-verdicts' });
      const adjudicateButtons = ADJUDICATIONS.map((a) => {
        const button = el('button', { class: 'button button-small', testid: `adjudicate-${a.value}`, attrs: { type: 'button' }, text: a.label });
        button.addEventListener('click', () => {
          // Enter belongs to "submit and next" again once the adjudication is sent.
          button.blur();
          void adjudicate(itemId, a.value);
        });
        return { verdict: a.value, button };
      });
      const adjudication = el('span', { class: 'adjudicate', testid: 'review-adjudicate', attrs: { role: 'group', 'aria-label': 'Adjudicate: the final word' } },
        el('span', { class: 'muted', text: 'Adjudicate:' }), ...adjudicateButtons.flatMap((b) => [' ', b.button]));
      const row = el('li', { class: 'review-row', testid: 'review-row' },
        el('div', { class: 'label-head' }, lemma, ' ', wnid, ' ', badge, ' ', models, ' ', state, adjudication), verdicts, gloss, notes, examples, group);
      row.addEventListener('click', () => {
        focus = current?.labels.findIndex((l) => l.itemId === itemId) ?? 0;
        render();
      });
      let notesKey = '';
      return {
        el: row,
        update({ label, index }) {
          row.dataset['itemId'] = String(label.itemId);
          row.dataset['wnid'] = label.wnid;
          const choice = choices.get(label.itemId) ?? standingChoice(label);
          row.dataset['choice'] = choice;
          row.classList.toggle('focused', index === focus);
          setAttr(row, 'aria-current', index === focus ? 'true' : null);
          setText(lemma, label.lemmas.join(', '));
          setText(wnid, label.wnid);
          setHidden(badge, !label.isOriginal);
          setText(models, label.models === 1 ? '1 model' : `${label.models} models`);
          setText(state, label.state);
          state.className = `state state-${label.state}`;
          row.classList.toggle('conflict', label.state === 'conflict');
          const admin = isAdmin();
          const mine = admin ? standingOf(label.itemId) : undefined;
          setHidden(adjudication, !admin);
          for (const b of adjudicateButtons) {
            b.button.disabled = busy || (b.verdict === 'unreviewed' && !mine?.adjudication);
            if (b.verdict !== 'unreviewed') setAttr(b.button, 'aria-pressed', mine?.adjudication?.verdict === b.verdict ? 'true' : 'false');
          }
          const said = [
            label.state === 'conflict' && mine ? verdictsLine(mine.verdicts) : '',
            mine?.adjudication ? `Adjudicated ${mine.adjudication.verdict} by ${mine.adjudication.author}` : '',
          ].filter((part) => part !== '').join(' · ');
          setText(verdicts, said);
          setHidden(verdicts, said === '');
          setText(gloss, label.gloss);
          for (const r of radios) if (r.input.checked !== (r.choice === choice)) r.input.checked = r.choice === choice;
          const relevant = (current?.notes ?? []).filter((n) => n.wnid === label.wnid || n.otherWnid === label.wnid);
          const key = relevant.map((n) => `${n.id}:${n.updatedAt}`).join(',');
          if (key !== notesKey) {
            notesKey = key;
            notes.replaceChildren(...relevant.map((n) => noteView(n, current?.labels ?? [])));
          }
          strip.update(query.dataset, label.wnid);
        },
      };
    },
  );

  function standingOf(itemId: number): ItemVerdicts | undefined {
    return standing !== null && standing.imageId === current?.image.id ? standing.items.get(itemId) : undefined;
  }

  function noteView(note: GuideNote, labels: readonly ReviewLabel[]): HTMLElement {
    const name = (wnid: string): string => labels.find((l) => l.wnid === wnid)?.lemmas[0] ?? wnid;
    const title = note.otherWnid ? `${name(note.wnid)} vs ${name(note.otherWnid)}` : 'Guide';
    const body = el('div', { class: 'guide-note-body' });
    body.append(renderMarkdown(note.body));
    return el('aside', { class: 'guide-note' }, el('strong', { text: title }), body);
  }

  // --- Rendering ---
  function render(): void {
    setHidden(layout, current === null);
    setHidden(emptyText, !empty || current !== null);
    const all = progress?.subsets.find((s) => s.subset === (query.subset ?? 'all'));
    if (all) {
      setAttr(progressBar, 'max', String(Math.max(1, all.items)));
      setAttr(progressBar, 'value', String(all.decided));
      setText(progressText, `${formatCount(all.decided)} of ${formatCount(all.items)} labels decided, ${formatCount(all.pending)} pending, ${formatCount(all.conflicts)} conflicts`);
    }
    setText(todayText, `you today: ${formatCount(today)}`);
    submit.disabled = busy || current === null;
    undo.disabled = busy || last === null;
    setText(statusLine, status);
    if (current === null) return;
    root.dataset['imageId'] = String(current.image.id);
    setAttr(picture, 'src', imageFileUrl(current.image.id));
    setAttr(picture, 'alt', fileToggle.checked ? current.image.fileName : 'The image under review');
    setText(fileName, fileToggle.checked ? current.image.fileName : '');
    setText(original, `Original label: ${current.image.originalLemma} (${current.image.originalWnid})`);
    list.update(current.labels.map((label, index) => ({ label, index })));
    if (flagBox.checked !== flag.problematic) flagBox.checked = flag.problematic;
    reason.disabled = !flag.problematic;
    if (flag.reason && reason.value !== flag.reason) reason.value = flag.reason;
    flagNote.disabled = !flag.problematic;
    if (flagNote.value !== flag.note) flagNote.value = flag.note;
  }

  function show(image: ReviewImage | null): void {
    current = image;
    standing = null;
    if (image) loadStanding(image.image.id).catch((error: unknown) => {
      if (!isAbortError(error)) console.warn('Verdicts could not be loaded', error);
    });
    choices = new Map();
    focus = 0;
    flag = image ? { problematic: image.flag.problematic, reason: image.flag.reason ?? null, note: '' } : { problematic: false, reason: null, note: '' };
    shownAt = performance.now();
    empty = image === null;
    render();
    const row = rows.querySelector<HTMLElement>('.review-row.focused');
    row?.scrollIntoView({ block: 'nearest' });
  }

  // --- Loading ---
  function fetchNext(skip: number[]): Prefetch {
    const q: { dataset: string; subset?: string; mode: string; skip: number[] } = { dataset: query.dataset, mode: query.mode, skip };
    if (query.subset) q.subset = query.subset;
    return (api.get('/api/review/next', { query: q, signal: ctx.signal }) as Promise<ReviewImage | undefined>).then((image) => {
      if (image) new Image().src = imageFileUrl(image.image.id);
      return image ?? null;
    });
  }

  function startPrefetch(): void {
    prefetch = current ? fetchNext([current.image.id]) : null;
    prefetch?.catch(() => {
      prefetch = null;
    });
  }

  /** For admins: the image's history, read as who stands on what per item. */
  async function loadStanding(imageId: number): Promise<void> {
    if (!isAdmin()) return;
    const events = await api.get('/api/images/{id}/history', { path: { id: imageId }, signal: ctx.signal });
    if (current?.image.id !== imageId) return;
    standing = { imageId, items: itemVerdicts(events) };
    render();
  }

  /** Reloads the image's labels (states and versions) and verdicts, keeping the choices made so far. */
  async function refreshLabels(imageId: number): Promise<void> {
    const history = loadStanding(imageId).catch((error: unknown) => {
      if (!isAbortError(error)) console.warn('Verdicts could not be loaded', error);
    });
    const fresh = await api.get('/api/review/images/{id}', { path: { id: imageId }, signal: ctx.signal });
    await history;
    if (current?.image.id !== imageId) return;
    current = { ...current, labels: fresh.labels };
    render();
  }

  function loadProgress(): void {
    api
      .get('/api/review/progress', { query: { dataset: query.dataset }, signal: ctx.signal })
      .then((p) => {
        progress = p;
        today = p.myToday;
        render();
      })
      .catch((error: unknown) => {
        if (!isAbortError(error)) console.warn('Progress could not be loaded', error);
      });
  }

  function fail(error: unknown): void {
    if (isAbortError(error)) return;
    problemBox.update(toProblem(error));
  }

  async function advance(): Promise<void> {
    const pending = prefetch;
    prefetch = null;
    let next = pending ? await pending.catch(() => null) : null;
    if (next === null) next = await fetchNext([]);
    show(next);
    startPrefetch();
  }

  // --- Actions ---
  async function send(imageId: number, body: Submission): Promise<SubmitReviewResponse> {
    const { flag: changed, ...rest } = body;
    return api.post('/api/review/images/{id}', { path: { id: imageId }, body: changed ? { ...rest, flag: changed } : rest });
  }

  async function submitCurrent(): Promise<void> {
    if (!current || busy) return;
    if (flag.problematic && flag.reason === 'other' && flag.note.trim() === '') {
      status = 'Say why the image is problematic ("other" needs a note).';
      render();
      flagNote.focus();
      return;
    }
    busy = true;
    problemBox.update(null);
    const before = current;
    const body = buildSubmission(before.labels, choices, before.flag, flag, (performance.now() - shownAt) / 1000);
    render();
    try {
      const response = await send(before.image.id, body);
      last = { before, sent: body, response };
      today += response.eventsWritten;
      submits++;
      status = `Saved ${before.image.fileName}.`;
      await advance();
      if (submits % 10 === 1) loadProgress();
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        status = 'Someone else changed this image meanwhile: nothing was saved. Please review it again.';
        await api
          .get('/api/review/images/{id}', { path: { id: before.image.id }, signal: ctx.signal })
          .then(show)
          .catch(fail);
      } else fail(error);
    } finally {
      busy = false;
      render();
    }
  }

  async function undoLast(): Promise<void> {
    if (!last || busy) return;
    busy = true;
    const { before, sent, response } = last;
    try {
      const body = buildUndo(before.labels, before.flag, sent, { items: response.items, flag: response.flag });
      await send(before.image.id, body);
      today = Math.max(0, today - response.eventsWritten);
      const reloaded = await api.get('/api/review/images/{id}', { path: { id: before.image.id }, signal: ctx.signal });
      // The image on screen goes back to being the next one.
      const onScreen = current;
      prefetch = Promise.resolve(onScreen);
      last = null;
      status = `Undid the submit of ${before.image.fileName}.`;
      show(reloaded);
    } catch (error) {
      fail(error);
    } finally {
      busy = false;
      render();
    }
  }

  async function adjudicate(itemId: number, verdict: AdjudicationVerdict): Promise<void> {
    const image = current;
    const label = image?.labels.find((l) => l.itemId === itemId);
    if (!image || !label || busy) return;
    busy = true;
    problemBox.update(null);
    const name = label.lemmas[0] ?? label.wnid;
    render();
    try {
      try {
        const item = await api.post('/api/review/items/{id}/adjudicate', { path: { id: itemId }, body: { verdict, version: label.version, note: null } });
        status = verdict === 'unreviewed' ? `Withdrew the adjudication of ${name}: it is ${item.state} again.` : `Adjudicated ${name}: ${item.state}.`;
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 409)) throw error;
        status = `${name} changed meanwhile: nothing was written. Its state is shown afresh; adjudicate again if needed.`;
      }
      // The item's version moved on: the rows must carry it, or the next submit would be refused as stale.
      await refreshLabels(image.image.id);
      loadProgress();
    } catch (error) {
      fail(error);
    } finally {
      busy = false;
      render();
    }
  }

  function choose(choice: Choice): void {
    const label = current?.labels[focus];
    if (!label) return;
    choices.set(label.itemId, choice);
    // Choosing moves on to the next label, as in a form filled top to bottom.
    if (focus < (current?.labels.length ?? 0) - 1) focus++;
    render();
  }

  function onKey(event: KeyboardEvent): void {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target as HTMLElement | null;
    if (target && (target.tagName === 'TEXTAREA' || target.tagName === 'SELECT' || (target.tagName === 'INPUT' && (target as HTMLInputElement).type === 'text'))) {
      if (event.key === 'Escape') target.blur();
      return;
    }
    if (target && (target.tagName === 'BUTTON' || target.tagName === 'A') && event.key === 'Enter') return;
    const action = keyAction(event.key);
    if (!action || current === null) return;
    event.preventDefault();
    switch (action.kind) {
      case 'choose':
        choose(action.choice);
        break;
      case 'move':
        focus = Math.min(Math.max(0, focus + action.by), current.labels.length - 1);
        render();
        rows.querySelector<HTMLElement>('.review-row.focused')?.scrollIntoView({ block: 'nearest' });
        break;
      case 'submit':
        void submitCurrent();
        break;
      case 'toggle-problematic':
        flag = { ...flag, problematic: !flag.problematic, reason: flag.reason ?? FLAG_REASONS[0]?.value ?? null };
        render();
        break;
      case 'undo':
        void undoLast();
        break;
    }
  }

  document.addEventListener('keydown', onKey);
  ctx.signal.addEventListener('abort', () => document.removeEventListener('keydown', onKey), { once: true });
  submit.addEventListener('click', () => void submitCurrent());
  undo.addEventListener('click', () => void undoLast());
  fileToggle.addEventListener('change', render);
  flagBox.addEventListener('change', () => {
    flag = { ...flag, problematic: flagBox.checked, reason: flag.reason ?? reason.value };
    render();
  });
  reason.addEventListener('change', () => {
    flag = { ...flag, reason: reason.value };
    render();
  });
  flagNote.addEventListener('input', () => {
    flag = { ...flag, note: flagNote.value };
  });

  ctx.session.subscribe(() => render(), ctx.signal);
  loadProgress();
  fetchNext([])
    .then((image) => {
      show(image);
      startPrefetch();
    })
    .catch(fail);
}
