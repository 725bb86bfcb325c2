/** The datasets as a list of links to their class lists. */
import { el, setHidden, setHref, setText } from './dom';
import { mountKeyedList } from './keyedList';
import type { Dataset } from '../api/types';
import { countOf } from '../logic/format';
import { hrefs } from '../logic/routes';

export function mountDatasetPicker(parent: HTMLElement): { update(datasets: readonly Dataset[] | null): void } {
  const list = el('ul', { class: 'dataset-list', testid: 'dataset-picker' });
  const empty = el('p', { class: 'empty', text: 'There are no datasets yet.' });
  empty.hidden = true;
  parent.append(list, empty);

  const items = mountKeyedList<Dataset>(
    list,
    (d) => d.slug,
    () => {
      const name = el('a', { class: 'dataset-name' });
      const slug = el('code', { class: 'dataset-slug' });
      const meta = el('span', { class: 'dataset-meta' });
      const description = el('p', { class: 'dataset-description' });
      const item = el('li', { class: 'dataset-item' }, el('div', { class: 'dataset-heading' }, name, slug, meta), description);
      return {
        el: item,
        update(d) {
          item.dataset['slug'] = d.slug;
          setHref(name, hrefs.dataset(d.slug));
          setText(name, d.name);
          setText(slug, d.slug);
          setText(meta, `${countOf(d.classCount, 'class', 'classes')} · ${countOf(d.imageCount, 'image', 'images')}`);
          setText(description, d.description);
          setHidden(description, d.description.trim() === '');
        },
      };
    },
  );

  return {
    update(datasets) {
      items.update(datasets ?? []);
      setHidden(empty, datasets === null || datasets.length > 0);
    },
  };
}
