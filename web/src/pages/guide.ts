/**
 * "/guide[?under=wnid]": the labeling guide, browsed by WordNet branch. Breadcrumbs up to entity, the branches below
 * with their number of notes, and every note under the current branch with the class's gloss and example images.
 * Admins add or replace notes in place.
 */
import { api, isAbortError, toProblem } from '../api/client';
import type { Dataset, GuideEntry } from '../api/types';
import { el, setHidden, setText } from '../components/dom';
import { mountExampleStrip } from '../components/exampleStrip';
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

  const wnidInput = el('input', { testid: 'guide-edit-wnid', attrs: { placeholder: 'wnid, e.g. n02085620', required: '', 'aria-label': 'Class (wnid)' } });
  const otherInput = el('input', { testid: 'guide-edit-other', attrs: { placeholder: 'other wnid (for "X vs Y"), optional', 'aria-label': 'Other class (wnid), optional' } });
  const bodyInput = el('textarea', { testid: 'guide-edit-body', attrs: { rows: '4', placeholder: 'Note (Markdown: paragraphs, lists, emphasis, links)', 'aria-label': 'Note' } });
  const save = el('button', { testid: 'guide-edit-save', attrs: { type: 'submit' }, text: 'Save note' });
  const editor = el('form', { class: 'guide-editor', testid: 'guide-editor' }, el('h2', { text: 'Add or replace a note' }), wnidInput, otherInput, bodyInput, save);
  editor.hidden = true;

  root.append(el('h1', { text: 'Labeling guide' }), message, crumbs, branches, entries, editor, problem);
  const problemBox = mountProblemBox(problem);
  const fail = (error: unknown): void => {
    if (!isAbortError(error)) problemBox.update(toProblem(error));
  };

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

  editor.addEventListener('submit', (event) => {
    event.preventDefault();
    const other = otherInput.value.trim();
    save.disabled = true;
    api
      .put('/api/guide-notes', { body: { wnid: wnidInput.value.trim(), otherWnid: other === '' ? null : other, body: bodyInput.value } })
      .then(() => {
        bodyInput.value = '';
        problemBox.update(null);
        load();
      })
      .catch(fail)
      .finally(() => {
        save.disabled = false;
      });
  });

  let started = false;
  ctx.session.subscribe((state) => {
    if (state.status === 'anonymous') setText(message, 'Sign in to read the labeling guide.');
    if (state.status !== 'signed-in') return;
    setHidden(editor, !state.user.roles.includes('admin'));
    if (started) return;
    started = true;
    load();
  }, ctx.signal);
}
