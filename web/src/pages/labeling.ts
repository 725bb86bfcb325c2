/**
 * "/labeling": the caller's labeling tasks with their progress. "/labeling/{id}": one image at a time; the labeler
 * picks the single most specific class by searching lemmas ("/" focuses the search, arrows move, Enter picks) or by
 * walking the WordNet tree of the label space, sees its gloss and examples, and answers (Enter). Training tasks show
 * the feedback at once. Timing is kept by the server: opening an image starts its clock, "Pause" stops it.
 */
import { api, isAbortError, toProblem } from '../api/client';
import type { AnswerResponse, LabelingItem, LabelingTask, SynsetChild, SynsetSummary, TrainingFeedback } from '../api/types';
import { el, setHidden, setText } from '../components/dom';
import { mountExampleStrip } from '../components/exampleStrip';
import { renderMarkdown } from '../components/markdownView';
import { mountProblemBox } from '../components/problemBox';
import { expandable, leadsToClasses, percent, progressText } from '../logic/labeling';
import { hrefs, imageFileUrl, type Route } from '../logic/routes';
import type { PageContext } from '../pageContext';

const Entity = 'n00001740';

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
  let task: LabelingTask | null = null;
  let item: LabelingItem | null = null;
  let selected: { wnid: string; name: string } | null = null;
  let feedbackShown = false;
  let next: number | null = null;
  const names = new Map<string, string>();

  // --- Markup ---
  const heading = el('h1', { text: 'Labeling' });
  const progress = el('p', { class: 'muted', testid: 'labeling-progress' });
  const position = el('span', { testid: 'labeling-position' });
  const prev = el('button', { attrs: { type: 'button' }, text: '← Previous' });
  const forward = el('button', { attrs: { type: 'button' }, text: 'Next →' });
  const pause = el('button', { testid: 'labeling-pause', attrs: { type: 'button' }, text: 'Pause' });
  const submit = el('button', { testid: 'labeling-submit', attrs: { type: 'button' }, text: 'Submit task' });
  const bar = el('div', { class: 'review-bar' }, prev, position, forward, ' ', pause, ' ', submit);
  const picture = el('img', { class: 'review-image', testid: 'labeling-image', attrs: { alt: '', decoding: 'async' } });
  const current = el('p', { testid: 'labeling-answer' });
  const pausedNote = el('p', { class: 'lead', text: 'Paused. Open the image again to resume.' });
  pausedNote.hidden = true;

  const search = el('input', { testid: 'labeling-search', attrs: { type: 'search', placeholder: 'Search classes ( / )', autocomplete: 'off', spellcheck: 'false' } });
  const results = el('ul', { class: 'labeling-results', testid: 'labeling-results' });
  const tree = el('ul', { class: 'labeling-tree', testid: 'labeling-tree' });
  const detailName = el('strong', { testid: 'labeling-selected' });
  const detailGloss = el('p', { class: 'muted' });
  const answerButton = el('button', { testid: 'labeling-choose', attrs: { type: 'button' }, text: 'Answer' });
  const examples = el('div');
  const detailNotes = el('div', { class: 'guide-notes', testid: 'labeling-notes' });
  const details = el('div', { class: 'labeling-details' }, detailName, detailGloss, answerButton, detailNotes, examples);
  details.hidden = true;
  const strip = mountExampleStrip(examples, ctx.signal);
  const chooser = el('div', { class: 'labeling-chooser' }, search, results, details, el('h2', { text: 'By WordNet branch' }), tree);

  const verdict = el('p', { testid: 'labeling-verdict' });
  const correctLabels = el('p');
  const notes = el('div', { class: 'guide-notes' });
  const accuracy = el('p', { class: 'muted', testid: 'labeling-accuracy' });
  const mistakes = el('ul', { testid: 'labeling-mistakes' });
  const continueButton = el('button', { testid: 'labeling-continue', attrs: { type: 'button' }, text: 'Continue' });
  const feedback = el('div', { class: 'labeling-feedback', testid: 'labeling-feedback' }, verdict, correctLabels, notes, accuracy, mistakes, continueButton);
  feedback.hidden = true;
  const done = el('p', { class: 'lead', testid: 'labeling-done' });
  done.hidden = true;
  const problem = el('div');
  const workspace = el('div', { class: 'labeling', testid: 'labeling-panel' }, bar, picture, pausedNote, current, feedback, chooser);
  root.append(heading, progress, done, problem, workspace);
  const problemBox = mountProblemBox(problem);
  const fail = (error: unknown): void => {
    if (!isAbortError(error)) problemBox.update(toProblem(error));
  };

  // --- Rendering ---
  function render(): void {
    if (!task) return;
    setText(heading, task.name);
    const mine = task.mine as LabelingTask['mine'] | null;
    const training = task.mode === 'training';
    setText(progress, mine ? `${task.mode}, ${task.dataset}: ${progressText(mine)}` + (training && mine.accuracy != null ? `, accuracy ${percent(mine.accuracy)}` : '') : '');
    const submitted = mine?.submittedAt != null;
    submit.disabled = submitted;
    pause.disabled = submitted;
    if (item) {
      workspace.dataset['position'] = String(item.position);
      workspace.dataset['imageId'] = String(item.imageId);
      setText(position, ` ${item.position} of ${task.images} (part ${item.part}) `);
      if (picture.getAttribute('src') !== imageFileUrl(item.imageId)) picture.src = imageFileUrl(item.imageId);
      setText(current, item.answer ? `Your answer: ${names.get(item.answer) ?? item.answer}` : 'Not answered yet.');
      prev.disabled = item.position <= 1;
      forward.disabled = item.position >= task.images;
    }
    setHidden(chooser, submitted || feedbackShown);
    setHidden(feedback, !feedbackShown);
    if (selected) {
      setText(detailName, selected.name);
      answerButton.disabled = submitted;
    }
    setHidden(details, selected === null);
  }

  function showFeedback(f: TrainingFeedback, runningNext: number | null): void {
    feedbackShown = true;
    next = runningNext;
    setText(verdict, f.correct ? 'Right.' : 'Wrong.');
    verdict.dataset['correct'] = String(f.correct);
    setText(correctLabels, `Correct labels: ${f.correctLabels.map((w) => names.get(w) ?? w).join(', ')}`);
    notes.replaceChildren(...f.notes.map((n) => el('div', { class: 'guide-note' }, el('strong', { text: n.otherWnid ? `${names.get(n.wnid) ?? n.wnid} vs ${names.get(n.otherWnid) ?? n.otherWnid}` : names.get(n.wnid) ?? n.wnid }), renderMarkdown(n.body))));
    setText(accuracy, `Running accuracy: ${percent(f.runningAccuracy)}`);
    const partMistakes = (f.partMistakes as TrainingFeedback['partMistakes'] | null) ?? null;
    mistakes.replaceChildren(
      ...(f.partComplete && partMistakes
        ? [el('li', { text: partMistakes.length === 0 ? 'Part complete without mistakes.' : `Part complete; ${partMistakes.length} mistake(s) to review:` }),
           ...partMistakes.map((m) => el('li', {}, el('a', { attrs: { href: `${hrefs.labelingTask(taskId)}?position=${m.position}` }, text: `#${m.position}` }),
             `: you said ${names.get(m.answer) ?? m.answer}, correct ${m.correctLabels.map((w) => names.get(w) ?? w).join(', ')}`))]
        : []),
    );
    render();
    continueButton.focus();
  }

  // --- Loading ---
  function loadTask(): Promise<void> {
    return api.get('/api/labeling/tasks/{id}', { path: { id: taskId }, signal: ctx.signal }).then((t) => {
      task = t;
      ctx.setTitle(t.name, 'Labeling');
      render();
    });
  }

  function open(pos: number): void {
    feedbackShown = false;
    api
      .get('/api/labeling/tasks/{id}/items/{position}', { path: { id: taskId, position: pos }, signal: ctx.signal })
      .then((i) => {
        item = i;
        problemBox.update(null);
        setHidden(pausedNote, true);
        search.value = '';
        hits = [];
        renderHits();
        ctx.replaceQuietly(`${hrefs.labelingTask(taskId)}?position=${pos}`);
        render();
        search.focus();
      })
      .catch(fail);
  }

  function finishIfDone(): void {
    const mine = task?.mine as LabelingTask['mine'] | null | undefined;
    setHidden(done, !(mine && mine.answered === mine.total));
    setText(done, mine?.submittedAt ? 'Submitted. Thank you.' : 'Every image is answered. Review your answers or submit the task.');
  }

  function answer(): void {
    if (!item || !selected) return;
    const wnid = selected.wnid;
    answerButton.disabled = true;
    api
      .put('/api/labeling/tasks/{id}/items/{position}', { path: { id: taskId, position: item.position }, body: { wnid } })
      .then(async (response: AnswerResponse) => {
        if (item) item = { ...item, answer: wnid };
        await loadTask();
        finishIfDone();
        const f = response.feedback as TrainingFeedback | null;
        if (f) showFeedback(f, response.nextPosition ?? null);
        else if (response.nextPosition != null) open(response.nextPosition);
        else render();
      })
      .catch(fail)
      .finally(() => {
        answerButton.disabled = false;
      });
  }

  function select(wnid: string, name: string): void {
    selected = { wnid, name };
    names.set(wnid, name);
    setText(detailGloss, '');
    detailNotes.replaceChildren();
    if (task) strip.update(task.dataset, wnid);
    // The guide's notes about this class (its own and its "X vs Y" pairs), in place.
    api
      .get('/api/guide-notes', { query: { wnid }, signal: ctx.signal })
      .then((found) => {
        if (selected?.wnid !== wnid) return;
        detailNotes.replaceChildren(
          ...found.map((n) => el('div', { class: 'guide-note' },
            el('strong', { text: n.otherWnid ? `${names.get(n.wnid) ?? n.wnid} vs ${names.get(n.otherWnid) ?? n.otherWnid}` : 'Guide' }),
            renderMarkdown(n.body))),
        );
      })
      .catch(fail);
    api
      .get('/api/synsets/{wnid}', { path: { wnid }, signal: ctx.signal })
      .then((s) => {
        if (selected?.wnid === wnid) setText(detailGloss, s.gloss);
      })
      .catch(fail);
    render();
    answerButton.focus();
  }

  // --- Search ---
  let searchSeq = 0;
  let hits: SynsetSummary[] = [];
  let highlighted = 0;
  function renderHits(): void {
    results.replaceChildren(
      ...hits.map((h, index) => {
        const button = el('button', { class: index === highlighted ? 'link-button highlighted' : 'link-button', attrs: { type: 'button', 'data-wnid': h.wnid }, text: h.lemmas.join(', ') });
        button.addEventListener('click', () => select(h.wnid, h.lemmas[0] ?? h.wnid));
        return el('li', { attrs: { 'aria-selected': String(index === highlighted) } }, button, el('span', { class: 'muted', text: ` ${h.gloss}` }));
      }),
    );
  }
  search.addEventListener('input', () => {
    const q = search.value.trim();
    const seq = ++searchSeq;
    if (q === '' || !task) {
      hits = [];
      renderHits();
      return;
    }
    api
      .get('/api/synsets', { query: { q, dataset: task.dataset, limit: 12 }, signal: ctx.signal })
      .then((found) => {
        if (seq !== searchSeq) return;
        hits = found.filter((h) => h.classIndex != null);
        highlighted = 0;
        for (const h of hits) names.set(h.wnid, h.lemmas[0] ?? h.wnid);
        renderHits();
      })
      .catch(fail);
  });
  search.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      if (hits.length === 0) return;
      highlighted = (highlighted + (event.key === 'ArrowDown' ? 1 : hits.length - 1)) % hits.length;
      renderHits();
    } else if (event.key === 'Enter') {
      event.preventDefault();
      const hit = hits[highlighted];
      if (hit) select(hit.wnid, hit.lemmas[0] ?? hit.wnid);
    }
  });

  // --- Tree: one level at a time, cached, so the 1,000-class space stays instant after the first look ---
  const childrenOf = new Map<string, Promise<SynsetChild[]>>();
  function children(wnid: string): Promise<SynsetChild[]> {
    let found = childrenOf.get(wnid);
    if (!found && task) {
      found = api.get('/api/synsets/{wnid}', { path: { wnid }, query: { dataset: task.dataset }, signal: ctx.signal })
        .then((s) => s.children.filter(leadsToClasses));
      childrenOf.set(wnid, found);
    }
    return found ?? Promise.resolve([]);
  }
  function fillTree(list: HTMLUListElement, wnid: string): void {
    children(wnid)
      .then((kids) => {
        list.replaceChildren(
          ...kids.map((child) => {
            const name = child.lemmas[0] ?? child.wnid;
            names.set(child.wnid, name);
            const sub = el('ul');
            sub.hidden = true;
            const toggle = el('button', { class: 'link-button tree-toggle', attrs: { type: 'button', 'aria-expanded': 'false' }, text: '▸' });
            toggle.hidden = !expandable(child);
            toggle.addEventListener('click', () => {
              const opening = sub.hidden;
              sub.hidden = !opening;
              toggle.textContent = opening ? '▾' : '▸';
              toggle.setAttribute('aria-expanded', String(opening));
              if (opening && sub.childElementCount === 0) fillTree(sub, child.wnid);
            });
            const label = child.inLabelSpace
              ? el('button', { class: 'link-button', attrs: { type: 'button' }, text: name })
              : el('span', { text: name });
            if (label instanceof HTMLButtonElement) label.addEventListener('click', () => select(child.wnid, name));
            return el('li', { attrs: { 'data-wnid': child.wnid } }, toggle, ' ', label, el('span', { class: 'muted', text: ` (${child.classesBelow})` }), sub);
          }),
        );
      })
      .catch(fail);
  }

  // --- Actions ---
  answerButton.addEventListener('click', answer);
  continueButton.addEventListener('click', () => {
    feedbackShown = false;
    selected = null;
    if (next != null) open(next);
    else render();
  });
  prev.addEventListener('click', () => item && open(item.position - 1));
  forward.addEventListener('click', () => item && open(item.position + 1));
  pause.addEventListener('click', () => {
    api.post('/api/labeling/tasks/{id}/pause', { path: { id: taskId } }).then(() => setHidden(pausedNote, false)).catch(fail);
  });
  submit.addEventListener('click', () => {
    api
      .post('/api/labeling/tasks/{id}/submit', { path: { id: taskId } })
      .then((t) => {
        task = t;
        finishIfDone();
        render();
      })
      .catch(fail);
  });
  const onKey = (event: KeyboardEvent): void => {
    // "/" never starts a lemma: it always (re)starts the search.
    if (event.key === '/') {
      event.preventDefault();
      search.focus();
      search.select();
    }
  };
  document.addEventListener('keydown', onKey);
  ctx.signal.addEventListener('abort', () => document.removeEventListener('keydown', onKey), { once: true });

  const requested = Number(new URLSearchParams(ctx.location().split('?')[1]?.split('#')[0] ?? '').get('position'));
  let started = false;
  ctx.session.subscribe((state) => {
    if (state.status === 'anonymous') ctx.navigate(hrefs.signIn(ctx.location()), { replace: true });
    if (state.status !== 'signed-in' || started) return;
    started = true;
    loadTask()
      .then(() => {
        finishIfDone();
        fillTree(tree, Entity);
        open(Number.isInteger(requested) && requested > 0 ? requested : (task?.nextPosition ?? 1));
      })
      .catch(fail);
  }, ctx.signal);
}
