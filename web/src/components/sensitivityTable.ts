/**
 * Kendall's tau-b between the rankings of the complete entries under each definition (strict/lenient x micro/per-class,
 * top-1, ReaL): how much the order depends on the definition. A tau below 0.9 is marked.
 */
import { el, setText } from './dom';
import { tauText } from '../logic/leaderboard';

export interface Sensitivity {
  readonly rankings: readonly string[];
  readonly tau: readonly (readonly (number | null)[])[];
  readonly entries: number;
}

export function mountSensitivityTable(parent: HTMLElement): { update(sensitivity: Sensitivity): void } {
  const caption = el('caption');
  const head = el('tr');
  const body = el('tbody');
  const table = el('table', { class: 'data-table sensitivity', testid: 'sensitivity' }, caption, el('thead', {}, head), body);
  parent.append(el('div', { class: 'table-scroll' }, table));
  let shape = '';

  return {
    update(s) {
      setText(caption, `Kendall's τ-b between the rankings of the ${s.entries} complete entries under each definition (1 = the same order)`);
      // The definitions change only with the dataset (ReaL needs reference labels): rebuild the grid only then.
      const key = s.rankings.join('|');
      if (key !== shape) {
        shape = key;
        head.replaceChildren(el('th', { attrs: { scope: 'col' } }), ...s.rankings.map((r) => el('th', { text: r, attrs: { scope: 'col' } })));
        body.replaceChildren(...s.rankings.map((r) => el('tr', {}, el('th', { text: r, attrs: { scope: 'row' } }), ...s.rankings.map(() => el('td', { class: 'number' })))));
      }
      s.rankings.forEach((_, i) => {
        const cells = body.children[i]!.querySelectorAll('td');
        s.rankings.forEach((__, j) => {
          const tau = s.tau[i]?.[j] ?? null;
          const cell = cells[j]!;
          setText(cell, tauText(tau));
          cell.classList.toggle('low', tau !== null && tau < 0.9);
        });
      });
    },
  };
}
