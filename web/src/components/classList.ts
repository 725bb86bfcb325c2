/** The classes of a label space: index, first lemma, wnid and image count, each linking to the class page. */
import { el, setAttr, setHref, setText } from './dom';
import { mountKeyedList } from './keyedList';
import type { DatasetClass } from '../api/types';
import { countOf } from '../logic/format';
import { hrefs } from '../logic/routes';

export interface ClassListState {
  readonly dataset: string;
  readonly classes: readonly DatasetClass[];
}

export function mountClassList(parent: HTMLElement): { update(state: ClassListState): void } {
  const list = el('ul', { class: 'class-list', testid: 'class-list' });
  parent.append(list);
  let dataset = '';

  const items = mountKeyedList<DatasetClass>(
    list,
    (c) => c.wnid,
    () => {
      const index = el('span', { class: 'class-index' });
      const lemma = el('span', { class: 'class-lemma' });
      const wnid = el('code', { class: 'class-wnid' });
      const count = el('span', { class: 'class-count' });
      const link = el('a', {}, index, lemma, wnid, count);
      const item = el('li', {}, link);
      return {
        el: item,
        update(c) {
          item.dataset['wnid'] = c.wnid;
          setHref(link, hrefs.class(dataset, c.wnid));
          setAttr(link, 'title', c.gloss || null);
          setText(index, String(c.index));
          setText(lemma, c.lemmas[0] ?? c.wnid);
          setText(wnid, c.wnid);
          setText(count, countOf(c.imageCount, 'image', 'images'));
        },
      };
    },
  );

  return {
    update(state) {
      dataset = state.dataset;
      items.update(state.classes);
    },
  };
}
