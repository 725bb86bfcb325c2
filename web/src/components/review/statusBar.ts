/** The queue's progress (labels decided, pending, conflicts) and the reviewer's count today. */
import type { ReviewProgress } from '../../api/types';
import { el, setAttr, setText } from '../dom';
import { formatCount } from '../../logic/format';

export interface StatusBarState {
  readonly progress: ReviewProgress | null;
  readonly subset: string | null;
  readonly today: number;
}

export function mountStatusBar(parent: HTMLElement): { update(state: StatusBarState): void } {
  const progressBar = el('progress', { testid: 'review-progress', attrs: { max: '1', value: '0' } });
  const progressText = el('span', { class: 'muted' });
  const todayText = el('span', { testid: 'review-today' });
  parent.append(el('div', { class: 'review-bar' }, progressBar, ' ', progressText, ' · ', todayText));

  return {
    update({ progress, subset, today }) {
      const counts = progress?.subsets.find((s) => s.subset === (subset ?? 'all'));
      if (counts) {
        setAttr(progressBar, 'max', String(Math.max(1, counts.items)));
        setAttr(progressBar, 'value', String(counts.decided));
        setText(progressText, `${formatCount(counts.decided)} of ${formatCount(counts.items)} labels decided, ${formatCount(counts.pending)} pending, ${formatCount(counts.conflicts)} conflicts`);
      }
      setText(todayText, `you today: ${formatCount(today)}`);
    },
  };
}
