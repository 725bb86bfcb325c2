/** The search box over a label space; it reports every edit. */
import { el } from './dom';

export function mountClassSearch(parent: HTMLElement, options: { onInput(text: string): void }): { update(text: string): void } {
  const input = el('input', {
    testid: 'class-search',
    attrs: {
      id: 'class-search',
      type: 'search',
      name: 'q',
      placeholder: 'Lemma or wnid, e.g. retriever',
      autocomplete: 'off',
      spellcheck: 'false',
    },
  });
  const label = el('label', { attrs: { for: 'class-search' }, text: 'Search' });
  parent.append(el('div', { class: 'field field-grow' }, label, input));

  input.addEventListener('input', () => options.onInput(input.value));

  return {
    update(text) {
      // Only when it differs, so typing keeps its caret.
      if (input.value !== text) input.value = text;
    },
  };
}
