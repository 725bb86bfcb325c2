/** Two rows picked on the leaderboard, and the link to their paired comparison. */
import { el, setHidden, setHref, setText } from './dom';

export interface ComparePicksState {
  /** Slug and display name of each picked row, oldest first (at most two). */
  readonly picked: readonly { readonly slug: string; readonly name: string }[];
  /** The compare page of the two, when two are picked. */
  readonly href: string | null;
}

export function mountComparePicks(parent: HTMLElement, events: { onClear(): void }): { update(state: ComparePicksState): void } {
  const hint = el('span', { testid: 'compare-hint' });
  const link = el('a', { class: 'button', testid: 'compare-link' });
  const clear = el('button', { class: 'link-button', text: 'clear', attrs: { type: 'button' } });
  clear.addEventListener('click', () => events.onClear());
  parent.append(el('p', { class: 'compare-bar' }, hint, ' ', link, ' ', clear));

  return {
    update({ picked, href }) {
      const [a, b] = picked;
      setText(hint, b ? '' : a ? `${a.name} picked; pick one more row to compare.` : 'Pick two rows to compare them on the same images.');
      setText(link, a && b ? `Compare ${a.name} with ${b.name}` : '');
      setHidden(link, !(a && b && href));
      if (href) setHref(link, href);
      setHidden(clear, picked.length === 0);
    },
  };
}
