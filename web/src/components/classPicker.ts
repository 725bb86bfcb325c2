/**
 * A class picker: type a lemma, choose one of the WordNet classes found (GET /api/synsets), and the choice shows as
 * "lemma (wnid)". Used where a class used to be typed as a wnid.
 */
import { api, isAbortError } from '../api/client';
import type { SynsetSummary } from '../api/types';
import { el, setHidden, setText } from './dom';
import { mountKeyedList } from './keyedList';

export interface ClassChoice {
  readonly wnid: string;
  readonly lemma: string;
}

export interface ClassPicker {
  value(): ClassChoice | null;
  set(choice: ClassChoice | null): void;
}

let pickers = 0;

export function mountClassPicker(
  parent: HTMLElement,
  options: { readonly label: string; readonly testid: string; readonly optional: boolean; readonly signal: AbortSignal },
): ClassPicker {
  const id = `class-picker-${++pickers}`;
  const input = el('input', {
    testid: `${options.testid}-search`,
    attrs: {
      id, type: 'text', autocomplete: 'off', spellcheck: 'false', role: 'combobox', 'aria-expanded': 'false',
      'aria-controls': `${id}-options`, placeholder: 'Type a lemma, e.g. retriever',
    },
  });
  const list = el('ul', { class: 'class-picker-options', testid: `${options.testid}-options`, attrs: { id: `${id}-options`, role: 'listbox' } });
  const chosen = el('span', { class: 'class-picker-chosen', testid: `${options.testid}-chosen` });
  const clear = el('button', { class: 'button button-small', attrs: { type: 'button' }, text: 'Clear' });
  parent.append(el('div', { class: 'field class-picker' },
    el('label', { attrs: { for: id }, text: options.label }), el('span', {}, chosen, ' ', clear), input, list));

  let choice: ClassChoice | null = null;
  let request: AbortController | null = null;
  let timer = 0;

  const results = mountKeyedList<SynsetSummary>(list, (s) => s.wnid, (first) => {
    const button = el('button', { class: 'button button-small', attrs: { type: 'button', role: 'option', 'data-wnid': first.wnid } });
    button.addEventListener('click', () => {
      set({ wnid: first.wnid, lemma: first.lemmas[0] ?? first.wnid });
      input.value = '';
      show([]);
      input.focus();
    });
    // Up and down walk the options (up from the first returns to the input); Escape closes them, back in the input.
    button.addEventListener('keydown', (event) => {
      const buttons = [...list.querySelectorAll('button')];
      const at = buttons.indexOf(button);
      if (event.key === 'ArrowDown') buttons[Math.min(at + 1, buttons.length - 1)]?.focus();
      else if (event.key === 'ArrowUp') (at === 0 ? input : buttons[at - 1])?.focus();
      else if (event.key === 'Escape') { show([]); input.focus(); }
      else return;
      // The picker's keys are its own: a page's shortcuts (the review desk's Escape) do not see them.
      event.preventDefault();
      event.stopPropagation();
    });
    return {
      el: el('li', {}, button),
      update(s) {
        setText(button, `${s.lemmas.slice(0, 2).join(', ')} (${s.wnid})`);
        button.title = s.gloss;
      },
    };
  });

  function show(found: readonly SynsetSummary[]): void {
    results.update(found);
    input.setAttribute('aria-expanded', found.length > 0 ? 'true' : 'false');
  }

  function set(next: ClassChoice | null): void {
    choice = next;
    setText(chosen, next ? `${next.lemma} (${next.wnid})` : options.optional ? 'none' : 'none chosen yet');
    setHidden(clear, next === null);
  }

  input.addEventListener('input', () => {
    window.clearTimeout(timer);
    request?.abort();
    const text = input.value.trim();
    if (text.length < 2) {
      show([]);
      return;
    }
    // A short pause, so typing a word asks once.
    timer = window.setTimeout(() => {
      const controller = new AbortController();
      request = controller;
      options.signal.addEventListener('abort', () => controller.abort(), { once: true });
      api
        .get('/api/synsets', { query: { q: text, limit: 8 }, signal: controller.signal })
        .then((found: SynsetSummary[]) => show(found))
        .catch((error: unknown) => {
          if (!isAbortError(error)) console.warn('Class search failed', error);
        });
    }, 150);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' && list.querySelector('button')) list.querySelector('button')!.focus();
    else if (event.key === 'Escape' && input.getAttribute('aria-expanded') === 'true') show([]);
    else return;
    event.preventDefault();
    event.stopPropagation();
  });
  // The Clear button hides itself: the focus goes to the search, not to the page's start.
  clear.addEventListener('click', () => { set(null); input.focus(); });
  set(null);

  return { value: () => choice, set };
}
