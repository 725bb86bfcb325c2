/** A trail of links ("Browse › ILSVRC-2012 › tench"); the last crumb is the current page. */
import { el, setAttr, setHref, setText } from './dom';
import { mountKeyedList } from './keyedList';

export interface Crumb {
  readonly text: string;
  /** Null for the current page. */
  readonly href: string | null;
}

export function mountBreadcrumbs(parent: HTMLElement): { update(crumbs: readonly Crumb[]): void } {
  const list = el('ol');
  parent.append(el('nav', { class: 'breadcrumbs', attrs: { 'aria-label': 'Breadcrumbs' } }, list));

  const items = mountKeyedList<Crumb & { key: string }>(
    list,
    (c) => c.key,
    () => {
      const link = el('a');
      const item = el('li', {}, link);
      return {
        el: item,
        update(c) {
          setText(link, c.text);
          if (c.href === null) {
            setAttr(link, 'href', null);
            setAttr(link, 'aria-current', 'page');
          } else {
            setHref(link, c.href);
            setAttr(link, 'aria-current', null);
          }
        },
      };
    },
  );

  return { update: (crumbs) => items.update(crumbs.map((c, i) => ({ ...c, key: String(i) }))) };
}
