/**
 * The desk's sticky bar at the top: the queue's progress, the reviewer's count today, the flag as it will be sent, the
 * last action or error, and the keys. Whatever a key does shows here, where the eyes are.
 */
import type { ReviewProgress } from '../../api/types';
import { el, setAttr, setHidden, setText } from '../dom';
import { formatCount } from '../../logic/format';
import { FLAG_REASONS, keyHelp } from '../../logic/review';

export interface StatusBarState {
  readonly progress: ReviewProgress | null;
  readonly subset: string | null;
  readonly today: number;
  /** The flag as the reviewer has set it for this image. */
  readonly flag: { readonly problematic: boolean; readonly reason: string | null } | null;
  /** What the last action did. */
  readonly status: string;
  /** Why the last request failed, or ''. */
  readonly error: string;
  /** Images reviewed this session and the time left for the queue, in words. */
  readonly session: string;
  /** Admins see the adjudication keys in the help. */
  readonly admin: boolean;
}

export function mountStatusBar(parent: HTMLElement): { update(state: StatusBarState): void } {
  const progressBar = el('progress', { testid: 'review-progress', attrs: { max: '1', value: '0' } });
  const progressText = el('span', { class: 'muted' });
  const todayText = el('span', { testid: 'review-today' });
  const flagText = el('span', { class: 'review-bar-flag', testid: 'review-bar-flag' });
  const status = el('span', { class: 'review-status', testid: 'review-status', attrs: { role: 'status', 'aria-live': 'polite' } });
  const error = el('span', { class: 'review-error', testid: 'review-error', attrs: { role: 'alert' } });
  const sessionText = el('span', { class: 'review-session', testid: 'review-session' });
  const help = el('span', { class: 'muted review-keys', testid: 'review-keys', text: keyHelp(false) });
  parent.append(el('div', { class: 'review-bar', testid: 'review-bar' },
    el('div', { class: 'review-bar-line' }, progressBar, ' ', progressText, ' · ', todayText, ' · ', flagText),
    el('div', { class: 'review-bar-line' }, sessionText, ' ', status, error),
    el('div', { class: 'review-bar-line' }, help)));

  return {
    update(state) {
      const counts = state.progress?.subsets.find((s) => s.subset === (state.subset ?? 'all'));
      if (counts) {
        setAttr(progressBar, 'max', String(Math.max(1, counts.items)));
        setAttr(progressBar, 'value', String(counts.decided));
        setText(progressText, `${formatCount(counts.decided)} of ${formatCount(counts.items)} labels decided, ${formatCount(counts.pending)} pending, ${formatCount(counts.conflicts)} conflicts`);
      }
      setText(todayText, `you today: ${formatCount(state.today)}`);
      setText(sessionText, state.session);
      setText(help, keyHelp(state.admin));
      const flag = state.flag;
      setHidden(flagText, flag === null);
      flagText.classList.toggle('flagged', flag?.problematic === true);
      setText(flagText, flag?.problematic
        ? `Flagged problematic: ${FLAG_REASONS.find((r) => r.value === flag.reason)?.label ?? flag.reason ?? ''}`
        : 'Not flagged (p flags)');
      setText(status, state.status);
      setText(error, state.error);
      setHidden(error, state.error === '');
    },
  };
}
