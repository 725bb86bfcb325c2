/**
 * The lemma search of the labeling chooser: "/" focuses it (the page binds the key), arrows move the highlight, Enter
 * picks. Hits are classes of the task's label space; a pick bubbles up.
 */
import { api } from '../../api/client';
import type { SynsetSummary } from '../../api/types';
import { moveHighlight } from '../../logic/labeling';
import { el } from '../dom';
import { mountKeyedList } from '../keyedList';

export interface SynsetSearch {
  /** Empties the box and the hits (a new image). */
  clear(): void;
  focus(): void;
}

export function mountSynsetSearch(
  parent: HTMLElement,
  options: { dataset: () => string | null; signal: AbortSignal; onPick(wnid: string, name: string): void; onNames(hits: readonly SynsetSummary[]): void; onError(error: unknown): void },
): SynsetSearch {
  const input = el('input', { testid: 'labeling-search', attrs: { type: 'search', placeholder: 'Search classes ( / )', autocomplete: 'off', spellcheck: 'false', 'aria-label': 'Search classes' } });
  const results = el('ul', { class: 'labeling-results', testid: 'labeling-results' });
  parent.append(input, results);
  let hits: SynsetSummary[] = [];
  let highlighted = 0;
  let seq = 0;

  const pick = (h: SynsetSummary): void => options.onPick(h.wnid, h.lemmas[0] ?? h.wnid);
  const list = mountKeyedList<{ hit: SynsetSummary; highlighted: boolean }>(results, (v) => v.hit.wnid, (first) => {
    const button = el('button', { class: 'link-button', attrs: { type: 'button', 'data-wnid': first.hit.wnid } });
    const gloss = el('span', { class: 'muted' });
    let hit = first.hit;
    button.addEventListener('click', () => pick(hit));
    const item = el('li', {}, button, gloss);
    return {
      el: item,
      update(v) {
        hit = v.hit;
        button.textContent = v.hit.lemmas.join(', ');
        button.classList.toggle('highlighted', v.highlighted);
        gloss.textContent = ` ${v.hit.gloss}`;
        item.setAttribute('aria-selected', String(v.highlighted));
      },
    };
  });
  const render = (): void => list.update(hits.map((hit, i) => ({ hit, highlighted: i === highlighted })));

  input.addEventListener('input', () => {
    const q = input.value.trim();
    const dataset = options.dataset();
    const mine = ++seq;
    if (q === '' || !dataset) {
      hits = [];
      render();
      return;
    }
    api
      .get('/api/synsets', { query: { q, dataset, limit: 12 }, signal: options.signal })
      .then((found) => {
        if (mine !== seq) return;
        hits = found.filter((h) => h.classIndex != null);
        highlighted = 0;
        options.onNames(hits);
        render();
      })
      .catch(options.onError);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      highlighted = moveHighlight(highlighted, event.key === 'ArrowDown' ? 1 : -1, hits.length);
      render();
    } else if (event.key === 'Enter') {
      event.preventDefault();
      const hit = hits[highlighted];
      if (hit) pick(hit);
    }
  });

  return {
    clear() {
      input.value = '';
      hits = [];
      render();
    },
    focus() {
      input.focus();
      input.select();
    },
  };
}
