/** A select of the subsets of a label space, each shown with its class count. */
import { el, setAttr, setText } from './dom';
import { mountKeyedList } from './keyedList';
import type { Subset } from '../api/types';
import { countOf } from '../logic/format';

export interface SubsetPickerState {
  readonly subsets: readonly Subset[] | null;
  readonly selected: string;
}

interface SubsetOption {
  readonly name: string;
  readonly classCount: number | null;
  readonly description: string;
}

export function mountSubsetPicker(
  parent: HTMLElement,
  options: { onChange(name: string): void },
): { update(state: SubsetPickerState): void } {
  const select = el('select', { testid: 'subset-picker', attrs: { id: 'subset-picker', name: 'subset' } });
  const label = el('label', { attrs: { for: 'subset-picker' }, text: 'Subset' });
  parent.append(el('div', { class: 'field' }, label, select));

  select.addEventListener('change', () => options.onChange(select.value));

  const items = mountKeyedList<SubsetOption>(
    select,
    (s) => s.name,
    () => {
      const option = el('option');
      return {
        el: option,
        update(s) {
          option.value = s.name;
          setText(option, s.classCount === null ? s.name : `${s.name} (${countOf(s.classCount, 'class', 'classes')})`);
          setAttr(option, 'title', s.description || null);
        },
      };
    },
  );

  return {
    update({ subsets, selected }) {
      const shown: SubsetOption[] = (subsets ?? []).map((s) => ({ name: s.name, classCount: s.classCount, description: s.description }));
      // Keep the selection visible while loading, and when the address names an unknown subset.
      if (!shown.some((s) => s.name === selected)) shown.unshift({ name: selected, classCount: null, description: '' });
      items.update(shown);
      if (select.value !== selected) select.value = selected;
      select.disabled = subsets === null;
    },
  };
}
