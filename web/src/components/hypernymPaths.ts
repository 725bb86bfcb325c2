/** Every hypernym path of a synset, from entity down to the synset itself. */
import { el, setAttr, setText } from './dom';
import { mountKeyedList } from './keyedList';
import type { SynsetRef } from '../api/types';

export function mountHypernymPaths(parent: HTMLElement): { update(paths: readonly (readonly SynsetRef[])[]): void } {
  const container = el('div', { class: 'hypernym-paths', testid: 'hypernym-paths' });
  parent.append(container);

  const paths = mountKeyedList<readonly SynsetRef[]>(
    container,
    (path) => path.map((s) => s.wnid).join('/'),
    () => {
      const list = el('ol', { class: 'hypernym-path' });
      const nodes = mountKeyedList<{ ref: SynsetRef; last: boolean }>(
        list,
        (n) => n.ref.wnid,
        () => {
          const item = el('li');
          return {
            el: item,
            update({ ref, last }) {
              setText(item, ref.lemma);
              setAttr(item, 'title', ref.wnid);
              setAttr(item, 'aria-current', last ? 'true' : null);
            },
          };
        },
      );
      return {
        el: list,
        update: (path) => nodes.update(path.map((ref, i) => ({ ref, last: i === path.length - 1 }))),
      };
    },
  );

  return { update: (list) => paths.update(list) };
}
