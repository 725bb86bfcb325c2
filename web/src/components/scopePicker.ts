/**
 * The evaluation scope: the dataset's default (its 'annotated' image set when it has one), every image, or one of its
 * image sets (GET /api/datasets/{slug}/image-sets). The same scope applies to both datasets of a shift pair.
 */
import { api, isAbortError } from '../api/client';
import type { ImageSet } from '../api/types';
import { el, setAttr, setHidden, setText } from './dom';
import { mountKeyedList } from './keyedList';
import { scopeOptions, type ScopeOption } from '../logic/leaderboard';

export interface ScopePickerState {
  /** The dataset's image sets; null while loading or when they could not be listed. */
  readonly sets: readonly ImageSet[] | null;
  /** '' (default), 'all' or a set's name. */
  readonly selected: string;
  /** Shown under the control when the sets could not be listed. */
  readonly error?: string | null;
}

export function mountScopePicker(parent: HTMLElement, options: { onChange(value: string): void; testid?: string }): { update(state: ScopePickerState): void } {
  const select = el('select', { testid: options.testid ?? 'board-image-set', attrs: { name: 'imageSet' } });
  const error = el('small', { class: 'field-error', testid: 'image-sets-error' });
  parent.append(el('label', { class: 'field' }, 'Images ', select), error);
  select.addEventListener('change', () => options.onChange(select.value));

  const items = mountKeyedList<ScopeOption>(select, (o) => o.value, () => {
    const option = el('option');
    return {
      el: option,
      update(o) {
        option.value = o.value;
        setText(option, o.text);
        setAttr(option, 'title', o.title || null);
      },
    };
  });

  return {
    update(state) {
      items.update(scopeOptions(state.sets, state.selected));
      if (select.value !== state.selected) select.value = state.selected;
      setText(error, state.error ? `The image sets could not be listed: ${state.error}` : '');
      setHidden(error, !state.error);
    },
  };
}

/** The image sets of a dataset, or the reason they could not be listed (the scope control then offers default and all). */
export async function fetchImageSets(dataset: string, signal: AbortSignal): Promise<{ sets: ImageSet[] | null; error: string | null }> {
  try {
    return { sets: await api.get('/api/datasets/{slug}/image-sets', { path: { slug: dataset }, signal }), error: null };
  } catch (error) {
    if (isAbortError(error)) throw error;
    return { sets: null, error: error instanceof Error ? error.message : String(error) };
  }
}
