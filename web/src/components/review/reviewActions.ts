/** Submit and undo, what the last action did, and the keys. */
import { el, setText } from '../dom';

export interface ReviewActionsState {
  readonly canSubmit: boolean;
  readonly canUndo: boolean;
  readonly status: string;
}

export function mountReviewActions(parent: HTMLElement, events: { onSubmit(): void; onUndo(): void }): { update(state: ReviewActionsState): void } {
  const submit = el('button', { class: 'button button-primary', testid: 'review-submit', attrs: { type: 'button' }, text: 'Submit and next (Enter)' });
  const undo = el('button', { class: 'button', testid: 'review-undo', attrs: { type: 'button' }, text: 'Undo last submit (u)' });
  const status = el('p', { class: 'review-status', testid: 'review-status', attrs: { role: 'status', 'aria-live': 'polite' } });
  const help = el('p', { class: 'muted', text: 'Keys: 1 correct · 2 wrong · 3 unclear · 4 don\'t know · 0 unreviewed · j/k or ↑/↓ move · Enter submit · p problematic · u undo' });
  parent.append(el('p', { class: 'review-actions' }, submit, ' ', undo), status, help);
  submit.addEventListener('click', events.onSubmit);
  undo.addEventListener('click', events.onUndo);

  return {
    update(state) {
      submit.disabled = !state.canSubmit;
      undo.disabled = !state.canUndo;
      setText(status, state.status);
    },
  };
}
