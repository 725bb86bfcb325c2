/** The class picked in the labeling chooser: its name, gloss, the guide's notes about it, examples, and "Answer". */
import { api } from '../../api/client';
import { noteTitle, type NameOf } from '../../logic/labeling';
import { el, setHidden, setText } from '../dom';
import { mountExampleStrip } from '../exampleStrip';
import { renderMarkdown } from '../markdownView';

export interface ClassDetails {
  /** Shows a class (or nothing) and loads its gloss and notes. */
  show(selected: { wnid: string; name: string } | null, dataset: string | null): void;
  update(state: { readonly canAnswer: boolean }): void;
  focusAnswer(): void;
}

export function mountClassDetails(parent: HTMLElement, options: { signal: AbortSignal; name: NameOf; onAnswer(): void; onError(error: unknown): void }): ClassDetails {
  const name = el('strong', { testid: 'labeling-selected' });
  const gloss = el('p', { class: 'muted' });
  const answer = el('button', { testid: 'labeling-choose', attrs: { type: 'button' }, text: 'Answer' });
  const examples = el('div');
  const notes = el('div', { class: 'guide-notes', testid: 'labeling-notes' });
  const box = el('div', { class: 'labeling-details' }, name, gloss, answer, notes, examples);
  box.hidden = true;
  parent.append(box);
  const strip = mountExampleStrip(examples, options.signal);
  answer.addEventListener('click', options.onAnswer);
  let shown: string | null = null;

  return {
    show(selected, dataset) {
      shown = selected?.wnid ?? null;
      setHidden(box, selected === null);
      if (!selected) return;
      const wnid = selected.wnid;
      setText(name, selected.name);
      setText(gloss, '');
      notes.replaceChildren();
      if (dataset) strip.update(dataset, wnid);
      // The guide's notes about this class (its own and its "X vs Y" pairs), in place.
      api
        .get('/api/guide-notes', { query: { wnid }, signal: options.signal })
        .then((found) => {
          if (shown !== wnid) return;
          notes.replaceChildren(...found.map((n) => el('div', { class: 'guide-note' }, el('strong', { text: noteTitle(n, options.name, 'Guide') }), renderMarkdown(n.body))));
        })
        .catch(options.onError);
      api
        .get('/api/synsets/{wnid}', { path: { wnid }, signal: options.signal })
        .then((s) => {
          if (shown === wnid) setText(gloss, s.gloss);
        })
        .catch(options.onError);
    },
    update(state) {
      answer.disabled = !state.canAnswer;
    },
    focusAnswer: () => answer.focus(),
  };
}
