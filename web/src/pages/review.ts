/**
 * "/review?dataset=…[&subset=…&mode=…&image=ID]": the review desk. One image large, one row per candidate label with five
 * choices, the problematic flag; keyboard first (1-4 and 0 choose, j/k or arrows move, Enter submits, p flags,
 * u undoes the last submit, s skips with a reason, +/−/z and shift+arrows zoom and pan). The next image is fetched while
 * the reviewer works, so the switch is instant. The address follows the image shown: a link or a reload opens it, and
 * back/forward walk the images of the session.
 * Links switch between the pending, conflicts and problematic queues; admins also give the final word on a label
 * (adjudication) and see who stands on what behind a conflict.
 *
 * The page composes components (queue switch, status bar, image pane, label rows, flag, actions), each with its own
 * update(); the desk's state and its changes live in logic/reviewDesk.ts; this file loads, sends and routes keys.
 */
import { api, ApiError, isAbortError, toProblem } from '../api/client';
import type { Dataset, ReviewImage, ReviewProgress, SubmitReviewResponse } from '../api/types';
import { itemVerdicts, type AdjudicationVerdict, type ItemVerdicts, type ReviewMode } from '../logic/adjudication';
import { el, setHidden, setText } from '../components/dom';
import { mountGuideNoteEditor } from '../components/guideNoteEditor';
import { mountProblemBox } from '../components/problemBox';
import { mountFlagControl } from '../components/review/flagControl';
import { mountImagePane } from '../components/review/imagePane';
import { mountLabelRows } from '../components/review/labelRows';
import { mountQueueSwitch } from '../components/review/queueSwitch';
import { mountReviewActions } from '../components/review/reviewActions';
import { mountSkipPanel } from '../components/review/skipPanel';
import { mountStatusBar } from '../components/review/statusBar';
import { buildSubmission, buildUndo, keyAction, SKIP_REASONS, type SkipReason, type Submission } from '../logic/review';
import {
  chooseFocused, chooseFor, editFlag, flagProblem, focusItem, initialDesk, keepChoicesAfterConflict, moveFocus, replaceLabels,
  restoreSubmission, showImage, shownChoice, toggleProblematic, type DeskState,
} from '../logic/reviewDesk';
import type { Problem } from '../logic/problem';
import { hasRole } from '../logic/roles';
import { hrefs, imageFileUrl } from '../logic/routes';
import { parseReviewQuery, reviewHref } from '../logic/reviewUrl';
import { emptyQueueReason, remainingImages, sessionLine } from '../logic/reviewSession';
import type { PageContext } from '../pageContext';

export function mountReviewPage(root: HTMLElement, ctx: PageContext): void {
  ctx.setTitle('Review');
  const { dataset, subset, mode, image } = parseReviewQuery(ctx.location().split('?')[1]?.split('#')[0] ?? '');
  const opensDesk = dataset !== null || image !== null;

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
        ? opensDesk
          ? ''
          : 'Choose a dataset to review.'
        : state.status === 'signed-in'
          ? `You are signed in as ${state.user.displayName || state.user.name}, who is not a reviewer.`
          : 'Reviewers judge which labels each image deserves.',
    );
    setHidden(message, reviewer && opensDesk);
    setHidden(signInHint, reviewer || state.status === 'unknown');
    if (reviewer && !started) {
      started = true;
      if (image !== null) openImage(image);
      else if (dataset) {
        ctx.setTitle('Review', dataset);
        mountReviewDesk(workspace, ctx, { dataset, subset, mode }, problemBox, null);
      } else listDatasets();
    }
  }, ctx.signal);

  /** "?image=ID": the image first, then the desk of its dataset, with the image on screen. */
  function openImage(id: number): void {
    api
      .get('/api/review/images/{id}', { path: { id }, signal: ctx.signal })
      .then((opened) => {
        ctx.setTitle('Review', opened.image.fileName);
        mountReviewDesk(workspace, ctx, { dataset: opened.image.dataset, subset, mode }, problemBox, opened);
      })
      .catch((error: unknown) => {
        if (!isAbortError(error)) problemBox.update(toProblem(error));
      });
  }

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
}

interface Query {
  readonly dataset: string;
  readonly subset: string | null;
  readonly mode: ReviewMode;
}

/** What the desk knows beside the image on screen. */
interface Surroundings {
  /** The next image, asked for while the reviewer works on this one. */
  prefetch: Promise<ReviewImage | null> | null;
  /** The last submit, for undo. */
  last: { readonly before: ReviewImage; readonly sent: Submission; readonly response: SubmitReviewResponse } | null;
  progress: ReviewProgress | null;
  /** Who stands on what for the current image's items; loaded for admins only. */
  standing: { readonly imageId: number; readonly items: ReadonlyMap<number, ItemVerdicts> } | null;
  /** Seconds spent on each image submitted this session (undo takes the last one back). */
  seconds: number[];
  /** Images submitted when the progress was last read: the queue's counts are that old. */
  reviewedAtProgress: number;
  /** Images skipped this session: they stay out of the queue until the page is loaded again. */
  skipped: number[];
  /** The skip panel: open, and the reason chosen. */
  skip: { open: boolean; reason: SkipReason | null };
  /** Images shown so far: the first one replaces the address, the others add history entries. */
  shown: number;
}

function mountReviewDesk(
  root: HTMLElement, ctx: PageContext, query: Query, problemBox: { update(p: Problem | null): void }, opened: ReviewImage | null,
): void {
  let desk: DeskState<ReviewImage> = initialDesk();
  const around: Surroundings = {
    prefetch: null, last: null, progress: null, standing: null, seconds: [], reviewedAtProgress: 0, skipped: [],
    skip: { open: false, reason: null }, shown: 0,
  };
  /** The last request's failure, shown in the status bar until the next action succeeds. */
  let lastError = '';
  const isAdmin = (): boolean => ctx.session.state.status === 'signed-in' && hasRole(ctx.session.state.user.roles, 'admin');

  // --- Components ---
  const modes = mountQueueSwitch(root, query);
  const bar = mountStatusBar(root);
  const figure = el('div', { class: 'review-pane' });
  const side = el('div', { class: 'review-side' });
  const layout = el('div', { class: 'review-layout' }, figure, side);
  const emptyText = el('p', { class: 'lead review-empty-reason', testid: 'review-empty' });
  root.append(layout, emptyText);
  root.hidden = false;
  const pane = mountImagePane(figure);
  const rows = mountLabelRows(side, {
    onChoose: (itemId, choice) => set(chooseFor(desk, itemId, choice)),
    onFocus: (itemId) => set(focusItem(desk, itemId)),
    onAdjudicate: (itemId, verdict) => void adjudicate(itemId, verdict),
    onEditNote: (note) => {
      const lemma = (wnid: string): string => desk.current?.labels.find((l) => l.wnid === wnid)?.lemmas[0] ?? wnid;
      noteEditor.open({
        id: note.id, wnid: { wnid: note.wnid, lemma: lemma(note.wnid) },
        other: note.otherWnid ? { wnid: note.otherWnid, lemma: lemma(note.otherWnid) } : null, body: note.body,
      });
    },
    onNoteDeleted: () => void refreshNotes(),
    onError: fail,
  }, ctx.signal);
  // Submit right under the rows, the flag after it: the button stays on the first screen.
  const actions = mountReviewActions(side, { onSubmit: () => void submitCurrent(), onUndo: () => void undoLast() });
  const skipPanel = mountSkipPanel(side, {
    onReason: (reason) => setSkip({ open: true, reason }),
    onConfirm: () => void skipCurrent(),
    onCancel: () => setSkip({ open: false, reason: null }),
  });
  const flag = mountFlagControl(side, { onChange: (change) => set(editFlag(desk, change), change.note === undefined) });
  const noteEditor = mountGuideNoteEditor(side, { signal: ctx.signal, onSaved: () => void refreshNotes() });

  // --- Rendering ---
  function set(next: DeskState<ReviewImage>, rerender = true): void {
    desk = next;
    if (rerender) render();
  }

  function standingOf(itemId: number): ItemVerdicts | undefined {
    return around.standing !== null && around.standing.imageId === desk.current?.image.id ? around.standing.items.get(itemId) : undefined;
  }

  function setSkip(skip: Surroundings['skip']): void {
    around.skip = skip;
    render();
  }

  function render(): void {
    const current = desk.current;
    const counts = around.progress?.subsets.find((s) => s.subset === (query.subset ?? 'all')) ?? null;
    const reviewed = around.seconds.length;
    const queued = remainingImages(query.mode, counts);
    // The counts are as old as the last progress read; the images submitted since have left the queue.
    const remaining = queued === null ? null : Math.max(0, queued - (reviewed - around.reviewedAtProgress));
    modes.update(query.mode);
    setHidden(layout, current === null);
    setHidden(emptyText, !desk.empty || current !== null);
    setText(emptyText, emptyQueueReason(query.mode, around.progress?.consensusRule ?? null, counts, around.skipped.length));
    bar.update({
      progress: around.progress, subset: query.subset, today: desk.today, status: desk.status, error: lastError,
      flag: current === null ? null : desk.flag, session: sessionLine(reviewed, remaining, around.seconds), admin: isAdmin(),
    });
    skipPanel.update({ open: around.skip.open && current !== null, reason: around.skip.reason, busy: desk.busy });
    actions.update({ canSubmit: !desk.busy && current !== null, canUndo: !desk.busy && around.last !== null });
    if (current === null) return;
    root.dataset['imageId'] = String(current.image.id);
    pane.update({ image: current.image });
    rows.update({
      dataset: query.dataset, labels: current.labels, notes: current.notes, choiceOf: (label) => shownChoice(desk, label),
      focus: desk.focus, busy: desk.busy, admin: isAdmin(), standingOf, changed: desk.changed,
    });
    flag.update(desk.flag);
  }

  function show(image: ReviewImage | null): void {
    around.standing = null;
    around.skip = { open: false, reason: null };
    if (image?.image.id !== desk.current?.image.id) noteEditor.close();
    // The address follows the image on screen, so it can be shared or reloaded and back/forward walk the session.
    const href = reviewHref({ ...query, image: image?.image.id ?? null });
    if (around.shown++ === 0) ctx.replaceQuietly(href);
    else ctx.pushQuietly(href);
    if (image) loadStanding(image.image.id).catch(warn('Verdicts could not be loaded'));
    set(showImage(desk, image, performance.now()));
    rows.scrollToFocus();
  }

  // --- Loading ---
  function fetchNext(skip: number[]): Promise<ReviewImage | null> {
    const q: { dataset: string; subset?: string; mode: string; skip: number[] } = { dataset: query.dataset, mode: query.mode, skip };
    if (query.subset) q.subset = query.subset;
    return (api.get('/api/review/next', { query: q, signal: ctx.signal }) as Promise<ReviewImage | undefined>).then((image) => {
      if (image) new Image().src = imageFileUrl(image.image.id);
      return image ?? null;
    });
  }

  function startPrefetch(): void {
    around.prefetch = desk.current ? fetchNext([desk.current.image.id, ...around.skipped]) : null;
    around.prefetch?.catch(() => {
      around.prefetch = null;
    });
  }

  /** For admins: the image's history, read as who stands on what per item. */
  async function loadStanding(imageId: number): Promise<void> {
    if (!isAdmin()) return;
    const events = await api.get('/api/images/{id}/history', { path: { id: imageId }, signal: ctx.signal });
    if (desk.current?.image.id !== imageId) return;
    around.standing = { imageId, items: itemVerdicts(events) };
    render();
  }

  /** Reloads the image's labels (states and versions) and verdicts, keeping the choices made so far. */
  async function refreshLabels(imageId: number): Promise<void> {
    const history = loadStanding(imageId).catch(warn('Verdicts could not be loaded'));
    const fresh = await api.get('/api/review/images/{id}', { path: { id: imageId }, signal: ctx.signal });
    await history;
    set(replaceLabels(desk, imageId, fresh.labels));
  }

  /** After a guide note was written or deleted: the notes shown beside the rows, as they are now. */
  async function refreshNotes(): Promise<void> {
    const imageId = desk.current?.image.id;
    if (imageId === undefined) return;
    try {
      const fresh = await api.get('/api/review/images/{id}', { path: { id: imageId }, signal: ctx.signal });
      if (desk.current?.image.id === imageId) set({ ...desk, current: { ...desk.current, notes: fresh.notes }, status: 'Guide notes updated.' });
    } catch (error) {
      fail(error);
    }
  }

  function loadProgress(): void {
    api
      .get('/api/review/progress', { query: { dataset: query.dataset }, signal: ctx.signal })
      .then((p) => {
        around.progress = p;
        around.reviewedAtProgress = around.seconds.length;
        set({ ...desk, today: p.myToday });
      })
      .catch(warn('Progress could not be loaded'));
  }

  function warn(what: string): (error: unknown) => void {
    return (error) => {
      if (!isAbortError(error)) console.warn(what, error);
    };
  }

  function fail(error: unknown): void {
    if (isAbortError(error)) return;
    const problem = toProblem(error);
    problemBox.update(problem);
    lastError = `Not saved: ${problem.title}${problem.detail ? ` – ${problem.detail}` : ''}`;
    render();
  }

  async function advance(): Promise<void> {
    const pending = around.prefetch;
    around.prefetch = null;
    let next = pending ? await pending.catch(() => null) : null;
    if (next === null) next = await fetchNext(around.skipped);
    show(next);
    startPrefetch();
  }

  // --- Actions ---
  async function send(imageId: number, body: Submission): Promise<SubmitReviewResponse> {
    const { flag: changed, ...rest } = body;
    return api.post('/api/review/images/{id}', { path: { id: imageId }, body: changed ? { ...rest, flag: changed } : rest });
  }

  async function submitCurrent(): Promise<void> {
    const before = desk.current;
    if (!before || desk.busy) return;
    const invalid = flagProblem(desk.flag);
    if (invalid) {
      set({ ...desk, status: invalid });
      flag.focusNote();
      return;
    }
    problemBox.update(null);
    lastError = '';
    const body = buildSubmission(before.labels, desk.choices, before.flag, desk.flag, (performance.now() - desk.shownAt) / 1000);
    set({ ...desk, busy: true });
    try {
      const response = await send(before.image.id, body);
      around.last = { before, sent: body, response };
      around.seconds.push(body.secondsSpent);
      set({ ...desk, today: desk.today + response.eventsWritten, submits: desk.submits + 1, status: `Saved ${before.image.fileName}.` }, false);
      await advance();
      if (desk.submits % 10 === 1) loadProgress();
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        // The reviewer's choices stay; the rows take the fresh versions and mark what the other change touched.
        await api
          .get('/api/review/images/{id}', { path: { id: before.image.id }, signal: ctx.signal })
          .then((fresh) => {
            set({
              ...keepChoicesAfterConflict(desk, fresh),
              status: 'Someone else changed this image meanwhile: nothing was saved. Your choices are kept; check the marked rows and press Enter to submit again.',
            });
            loadStanding(fresh.image.id).catch(warn('Verdicts could not be loaded'));
          })
          .catch(fail);
      } else fail(error);
    } finally {
      set({ ...desk, busy: false });
    }
  }

  async function undoLast(): Promise<void> {
    const last = around.last;
    if (!last || desk.busy) return;
    set({ ...desk, busy: true }, false);
    const { before, sent, response } = last;
    try {
      const body = buildUndo(before.labels, before.flag, sent, { items: response.items, flag: response.flag });
      await send(before.image.id, body);
      const reloaded = await api.get('/api/review/images/{id}', { path: { id: before.image.id }, signal: ctx.signal });
      // The image on screen goes back to being the next one.
      around.prefetch = Promise.resolve(desk.current);
      around.last = null;
      around.seconds.pop();
      set({ ...desk, today: Math.max(0, desk.today - response.eventsWritten), status: `Undid the submit of ${before.image.fileName}: your choices are back to change and submit again.` }, false);
      show(reloaded);
      // The choices made come back (not "unreviewed"): the reviewer undid the save, not the thinking.
      set(restoreSubmission(desk, sent));
    } catch (error) {
      fail(error);
    } finally {
      set({ ...desk, busy: false });
    }
  }

  async function skipCurrent(): Promise<void> {
    const image = desk.current;
    const reason = around.skip.reason;
    if (!image || desk.busy || reason === null) return;
    problemBox.update(null);
    lastError = '';
    set({ ...desk, busy: true });
    try {
      await api.post('/api/review/images/{id}/skip', { path: { id: image.image.id }, body: { reason, note: skipPanel.note() } });
      around.skipped.push(image.image.id);
      const label = SKIP_REASONS.find((r) => r.value === reason)?.label ?? reason;
      set({ ...desk, status: `Skipped ${image.image.fileName} (${label}): it stays out of your queue this session.` }, false);
      // The prefetched image was asked for before this skip, with the earlier skips left out: it is still good.
      await advance();
    } catch (error) {
      fail(error);
    } finally {
      set({ ...desk, busy: false });
    }
  }

  /** shift+digit: an admin adjudicates the focused row. */
  function adjudicateFocused(verdict: AdjudicationVerdict): void {
    const label = desk.current?.labels[desk.focus];
    if (!label) return;
    if (verdict === 'unreviewed' && !standingOf(label.itemId)?.adjudication) {
      set({ ...desk, status: `${label.lemmas[0] ?? label.wnid} has no adjudication to withdraw.` });
      return;
    }
    void adjudicate(label.itemId, verdict);
  }

  async function adjudicate(itemId: number, verdict: AdjudicationVerdict): Promise<void> {
    const image = desk.current;
    const label = image?.labels.find((l) => l.itemId === itemId);
    if (!image || !label || desk.busy) return;
    problemBox.update(null);
    const name = label.lemmas[0] ?? label.wnid;
    set({ ...desk, busy: true });
    try {
      try {
        const item = await api.post('/api/review/items/{id}/adjudicate', { path: { id: itemId }, body: { verdict, version: label.version, note: null } });
        set({ ...desk, status: verdict === 'unreviewed' ? `Withdrew the adjudication of ${name}: it is ${item.state} again.` : `Adjudicated ${name}: ${item.state}.` }, false);
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 409)) throw error;
        set({ ...desk, status: `${name} changed meanwhile: nothing was written. Its state is shown afresh; adjudicate again if needed.` }, false);
      }
      // The item's version moved on: the rows must carry it, or the next submit would be refused as stale.
      await refreshLabels(image.image.id);
      loadProgress();
    } catch (error) {
      fail(error);
    } finally {
      set({ ...desk, busy: false });
    }
  }

  function onKey(event: KeyboardEvent): void {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target as HTMLElement | null;
    if (target && (target.tagName === 'TEXTAREA' || target.tagName === 'SELECT' || (target.tagName === 'INPUT' && (target as HTMLInputElement).type === 'text'))) {
      if (event.key === 'Escape') target.blur();
      return;
    }
    if (target && (target.tagName === 'BUTTON' || target.tagName === 'A') && event.key === 'Enter') return;
    const action = keyAction(event.key, { shift: event.shiftKey, code: event.code, skipping: around.skip.open, admin: isAdmin() });
    if (!action || desk.current === null) return;
    event.preventDefault();
    switch (action.kind) {
      case 'zoom':
        pane.zoom(action.by);
        break;
      case 'pan':
        pane.pan(action.dx, action.dy);
        break;
      case 'adjudicate':
        adjudicateFocused(action.verdict);
        break;
      case 'skip':
        setSkip({ open: true, reason: around.skip.reason });
        break;
      case 'skip-reason':
        setSkip({ open: true, reason: action.reason });
        break;
      case 'skip-confirm':
        if (around.skip.reason === null) set({ ...desk, status: 'Choose why you skip (1, 2 or 3), then Enter.' });
        else void skipCurrent();
        break;
      case 'skip-cancel':
        setSkip({ open: false, reason: null });
        break;
      case 'choose':
        set(chooseFocused(desk, action.choice));
        break;
      case 'move':
        set(moveFocus(desk, action.by));
        rows.scrollToFocus();
        break;
      case 'submit':
        void submitCurrent();
        break;
      case 'toggle-problematic':
        set(toggleProblematic(desk));
        break;
      case 'undo':
        void undoLast();
        break;
    }
  }

  document.addEventListener('keydown', onKey);
  ctx.signal.addEventListener('abort', () => document.removeEventListener('keydown', onKey), { once: true });
  ctx.session.subscribe(() => render(), ctx.signal);
  loadProgress();
  (opened ? Promise.resolve(opened) : fetchNext([]))
    .then((image) => {
      show(image);
      startPrefetch();
    })
    .catch(fail);
}
