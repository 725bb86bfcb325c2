/**
 * "/labeling": the caller's labeling tasks with their progress. "/labeling/{id}": one image at a time; the labeler
 * picks the single most specific class by searching lemmas ("/" focuses the search, arrows move, Enter picks) or by
 * walking the WordNet tree of the label space, sees its gloss and examples, and answers (Enter). Training tasks show
 * the feedback at once. Timing is kept by the server: opening an image starts its clock, "Pause" stops it.
 * The task page composes components (task bar, search, tree, class details, feedback), each with its own update().
 */
import { api, isAbortError, toProblem } from '../api/client';
import type { AnswerResponse, LabelingItem, LabelingTask, TrainingFeedback } from '../api/types';
import { el, setHidden, setText } from '../components/dom';
import { mountClassDetails } from '../components/labeling/classDetails';
import { mountFeedbackPanel } from '../components/labeling/feedbackPanel';
import { mountSynsetSearch } from '../components/labeling/synsetSearch';
import { mountSynsetTree } from '../components/labeling/synsetTree';
import { mountTaskBar } from '../components/labeling/taskBar';
import { mountProblemBox } from '../components/problemBox';
import { percent, progressText } from '../logic/labeling';
import { hrefs, imageFileUrl, type Route } from '../logic/routes';
import type { PageContext } from '../pageContext';

export function mountLabelingPage(root: HTMLElement, ctx: PageContext): void {
  ctx.setTitle('Labeling');
  const list = el('ul', { class: 'dataset-links', testid: 'labeling-tasks' });
  const message = el('p', { class: 'lead', text: 'Loading…' });
  const problem = el('div');
  root.append(el('h1', { text: 'Labeling' }), message, list, problem);
  const problemBox = mountProblemBox(problem);

  let started = false;
  ctx.session.subscribe((state) => {
    if (state.status === 'anonymous') {
      setText(message, 'Sign in to see your labeling tasks.');
      return;
    }
    if (state.status !== 'signed-in' || started) return;
    started = true;
    api
      .get('/api/labeling/tasks', { signal: ctx.signal })
      .then((tasks: LabelingTask[]) => {
        setText(message, tasks.length === 0 ? 'You have no labeling tasks.' : '');
        list.replaceChildren(
          ...tasks.map((t) => {
            const mine = t.mine as LabelingTask['mine'] | null;
            return el(
              'li',
              { attrs: { 'data-task-id': String(t.id) } },
              el('a', { attrs: { href: hrefs.labelingTask(t.id) }, text: t.name }),
              ` — ${t.mode}, ${t.dataset}: `,
              mine ? progressText(mine) : `${t.images} images, labelers ${t.labelers.join(', ')}`,
              mine?.submittedAt ? ' (submitted)' : '',
            );
          }),
        );
      })
      .catch((error: unknown) => {
        if (!isAbortError(error)) problemBox.update(toProblem(error));
      });
  }, ctx.signal);
}

export function mountLabelingTaskPage(root: HTMLElement, route: Extract<Route, { page: 'labeling-task' }>, ctx: PageContext): void {
  ctx.setTitle('Labeling');
  const taskId = route.id;
  /** What the page shows; the components render it. */
  const state: {
    task: LabelingTask | null;
    item: LabelingItem | null;
    selected: { wnid: string; name: string } | null;
    feedback: TrainingFeedback | null;
    /** Where "Continue" leads after feedback. */
    next: number | null;
    answering: boolean;
  } = { task: null, item: null, selected: null, feedback: null, next: null, answering: false };
  const names = new Map<string, string>();
  const nameOf = (wnid: string): string => names.get(wnid) ?? wnid;
  const fail = (error: unknown): void => {
    if (!isAbortError(error)) problemBox.update(toProblem(error));
  };

  // --- Components ---
  const heading = el('h1', { text: 'Labeling' });
  const progress = el('p', { class: 'muted', testid: 'labeling-progress' });
  const done = el('p', { class: 'lead', testid: 'labeling-done' });
  done.hidden = true;
  const problem = el('div');
  const workspace = el('div', { class: 'labeling', testid: 'labeling-panel' });
  root.append(heading, progress, done, problem, workspace);
  const problemBox = mountProblemBox(problem);

  const bar = mountTaskBar(workspace, {
    onMove: (by) => state.item && open(state.item.position + by),
    onPause: () => void api.post('/api/labeling/tasks/{id}/pause', { path: { id: taskId } }).then(() => setHidden(pausedNote, false)).catch(fail),
    onSubmit: () => void api.post('/api/labeling/tasks/{id}/submit', { path: { id: taskId } }).then((t) => {
      state.task = t;
      render();
    }).catch(fail),
  });
  const picture = el('img', { class: 'review-image', testid: 'labeling-image', attrs: { alt: 'The image to label', decoding: 'async' } });
  const pausedNote = el('p', { class: 'lead', text: 'Paused. Open the image again to resume.' });
  pausedNote.hidden = true;
  const answerLine = el('p', { testid: 'labeling-answer' });
  const feedbackBox = el('div');
  const chooser = el('div', { class: 'labeling-chooser' });
  workspace.append(picture, pausedNote, answerLine, feedbackBox, chooser);
  const feedback = mountFeedbackPanel(feedbackBox, {
    taskId, name: nameOf,
    onContinue() {
      state.feedback = null;
      state.selected = null;
      if (state.next != null) open(state.next);
      else render();
    },
  });
  const pick = (wnid: string, name: string): void => {
    names.set(wnid, name);
    state.selected = { wnid, name };
    details.show(state.selected, state.task?.dataset ?? null);
    render();
    details.focusAnswer();
  };
  const search = mountSynsetSearch(chooser, {
    dataset: () => state.task?.dataset ?? null, signal: ctx.signal, onPick: pick, onError: fail,
    onNames: (hits) => hits.forEach((h) => names.set(h.wnid, h.lemmas[0] ?? h.wnid)),
  });
  const details = mountClassDetails(chooser, { signal: ctx.signal, name: nameOf, onAnswer: answer, onError: fail });

  // --- Rendering ---
  function render(): void {
    const { task, item } = state;
    if (!task) return;
    setText(heading, task.name);
    const mine = task.mine as LabelingTask['mine'] | null;
    const training = task.mode === 'training';
    setText(progress, mine ? `${task.mode}, ${task.dataset}: ${progressText(mine)}` + (training && mine.accuracy != null ? `, accuracy ${percent(mine.accuracy)}` : '') : '');
    const submitted = mine?.submittedAt != null;
    bar.update({ position: item?.position ?? null, images: task.images, part: item?.part ?? null, submitted });
    if (item) {
      workspace.dataset['position'] = String(item.position);
      workspace.dataset['imageId'] = String(item.imageId);
      if (picture.getAttribute('src') !== imageFileUrl(item.imageId)) picture.src = imageFileUrl(item.imageId);
      setText(answerLine, item.answer ? `Your answer: ${nameOf(item.answer)}` : 'Not answered yet.');
    }
    setHidden(chooser, submitted || state.feedback !== null);
    details.update({ canAnswer: !submitted && !state.answering });
    setHidden(done, !(mine && mine.answered === mine.total));
    setText(done, mine?.submittedAt ? 'Submitted. Thank you.' : 'Every image is answered. Review your answers or submit the task.');
  }

  // --- Loading and answering ---
  function loadTask(): Promise<void> {
    return api.get('/api/labeling/tasks/{id}', { path: { id: taskId }, signal: ctx.signal }).then((t) => {
      state.task = t;
      ctx.setTitle(t.name, 'Labeling');
      render();
    });
  }

  function open(position: number): void {
    state.feedback = null;
    feedback.show(null);
    api
      .get('/api/labeling/tasks/{id}/items/{position}', { path: { id: taskId, position }, signal: ctx.signal })
      .then((i) => {
        state.item = i;
        problemBox.update(null);
        setHidden(pausedNote, true);
        search.clear();
        ctx.replaceQuietly(`${hrefs.labelingTask(taskId)}?position=${position}`);
        render();
        search.focus();
      })
      .catch(fail);
  }

  function answer(): void {
    const { item, selected } = state;
    if (!item || !selected) return;
    const wnid = selected.wnid;
    state.answering = true;
    render();
    api
      .put('/api/labeling/tasks/{id}/items/{position}', { path: { id: taskId, position: item.position }, body: { wnid } })
      .then(async (response: AnswerResponse) => {
        if (state.item) state.item = { ...state.item, answer: wnid };
        await loadTask();
        const f = response.feedback as TrainingFeedback | null;
        if (f) {
          state.feedback = f;
          state.next = response.nextPosition ?? null;
          render();
          feedback.show(f);
        } else if (response.nextPosition != null) open(response.nextPosition);
        else render();
      })
      .catch(fail)
      .finally(() => {
        state.answering = false;
        render();
      });
  }

  const onKey = (event: KeyboardEvent): void => {
    // "/" never starts a lemma: it always (re)starts the search.
    if (event.key === '/') {
      event.preventDefault();
      search.focus();
    }
  };
  document.addEventListener('keydown', onKey);
  ctx.signal.addEventListener('abort', () => document.removeEventListener('keydown', onKey), { once: true });

  const requested = Number(new URLSearchParams(ctx.location().split('?')[1]?.split('#')[0] ?? '').get('position'));
  let started = false;
  ctx.session.subscribe((session) => {
    if (session.status === 'anonymous') ctx.navigate(hrefs.signIn(ctx.location()), { replace: true });
    if (session.status !== 'signed-in' || started) return;
    started = true;
    loadTask()
      .then(() => {
        mountSynsetTree(chooser, { dataset: state.task!.dataset, signal: ctx.signal, onPick: pick, onName: (wnid, name) => names.set(wnid, name), onError: fail });
        open(Number.isInteger(requested) && requested > 0 ? requested : (state.task?.nextPosition ?? 1));
      })
      .catch(fail);
  }, ctx.signal);
}
