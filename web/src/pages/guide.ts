/**
 * "/guide[?under=wnid]": the labeling guide, browsed by WordNet branch. Breadcrumbs up to entity, the branches below
 * with their number of notes, and every note under the current branch with the class's gloss and example images.
 * Admins add, edit and delete notes in place, choosing classes with a class picker.
 */
import { api, isAbortError, toProblem } from '../api/client';
import type { Dataset, GuideEntry } from '../api/types';
import { el, setHidden, setText } from '../components/dom';
import { mountExampleStrip } from '../components/exampleStrip';
import { mountGuideNoteEditor, noteActions } from '../components/guideNoteEditor';
import { renderMarkdown } from '../components/markdownView';
import { mountProblemBox } from '../components/problemBox';
import { childBranches } from '../logic/guide';
import { hrefs, type Route } from '../logic/routes';
import type { PageContext } from '../pageContext';

const Entity = 'n00001740';

export function mountGuidePage(root: HTMLElement, route: Extract<Route, { page: 'guide' }>, ctx: PageContext): void {
  ctx.setTitle('Guide');
  const under = route.under ?? Entity;
  const message = el('p', { class: 'lead', text: 'Loading…' });
  const crumbs = el('nav', { class: 'breadcrumbs', testid: 'guide-crumbs' });
  const branches = el('ul', { class: 'dataset-links', testid: 'guide-branches' });
  const entries = el('div', { testid: 'guide-entries' });
  const problem = el('div');

  const newNote = el('button', { class: 'button', testid: 'guide-new-note', attrs: { type: 'button' }, text: 'New note' });
  newNote.hidden = true;
  const editorRoot = el('div');

  root.append(el('h1', { text: 'Labeling guide' }), message, crumbs, branches, newNote, entries, editorRoot, problem);
  const problemBox = mountProblemBox(problem);
  const fail = (error: unknown): void => {
    if (!isAbortError(error)) problemBox.update(toProblem(error));
  };
  const editor = mountGuideNoteEditor(editorRoot, { signal: ctx.signal, onSaved: () => load() });
  newNote.addEventListener('click', () => editor.open({ id: null, wnid: null, other: null, body: '' }));
  let admin = false;

  function render(list: GuideEntry[], dataset: string | null): void {
    setText(message, list.length === 0 ? 'No notes under this branch yet.' : `${list.length} note(s).`);
    const path = list[0]?.path ?? [];
    const upTo = path.findIndex((p) => p.wnid === under);
    crumbs.replaceChildren(
      ...(upTo >= 0 ? path.slice(0, upTo + 1) : [{ wnid: Entity, lemma: 'entity' }]).flatMap((p, i) => [
        i > 0 ? ' › ' : '',
        el('a', { attrs: { href: hrefs.guide(p.wnid === Entity ? null : p.wnid) }, text: p.lemma }),
      ]),
    );
    branches.replaceChildren(
      ...childBranches(list.map((e) => e.path), under).map((b) =>
        el('li', { attrs: { 'data-wnid': b.wnid } }, el('a', { attrs: { href: hrefs.guide(b.wnid) }, text: b.lemma }), ` (${b.notes})`),
      ),
    );
    entries.replaceChildren(
      ...list.map((e) => {
        const title = e.otherLemma ? `${e.lemma} vs ${e.otherLemma}` : e.lemma;
        const card = el('article', { class: 'guide-note', attrs: { 'data-note-id': String(e.note.id) } },
          el('h3', { text: title }), el('p', { class: 'muted', text: e.gloss }), renderMarkdown(e.note.body));
        if (admin)
          card.append(noteActions(e.note, {
            onEdit: (note) => editor.open({
              id: note.id, wnid: { wnid: note.wnid, lemma: e.lemma },
              other: note.otherWnid ? { wnid: note.otherWnid, lemma: e.otherLemma ?? note.otherWnid } : null, body: note.body,
            }),
            onDeleted: () => load(),
            onError: fail,
          }));
        if (dataset) mountExampleStrip(card, ctx.signal).update(dataset, e.note.wnid);
        return card;
      }),
    );
  }

  function load(): void {
    Promise.all([
      api.get('/api/guide', { query: { under }, signal: ctx.signal }),
      api.get('/api/datasets', { signal: ctx.signal }),
    ])
      .then(([list, datasets]: [GuideEntry[], Dataset[]]) => render(list, datasets[0]?.slug ?? null))
      .catch(fail);
  }

  let started = false;
  ctx.session.subscribe((state) => {
    if (state.status === 'anonymous') setText(message, 'Sign in to read the labeling guide.');
    if (state.status !== 'signed-in') return;
    admin = state.user.roles.includes('admin');
    setHidden(newNote, !admin);
    if (!admin) editor.close();
    if (started) return;
    started = true;
    load();
  }, ctx.signal);
}
