/** Submit and undo (what they did shows in the status bar, with the keys). */
import { el } from '../dom';

export interface ReviewActionsState {
  readonly canSubmit: boolean;
  readonly canUndo: boolean;
}

export function mountReviewActions(parent: HTMLElement, events: { onSubmit(): void; onUndo(): void }): { update(state: ReviewActionsState): void } {
  const submit = el('button', { class: 'button button-primary', testid: 'review-submit', attrs: { type: 'button' }, text: 'Submit and next (Enter)' });
  const undo = el('button', { class: 'button', testid: 'review-undo', attrs: { type: 'button' }, text: 'Undo last submit (u)' });
  parent.append(el('p', { class: 'review-actions' }, submit, ' ', undo));
  submit.addEventListener('click', events.onSubmit);
  undo.addEventListener('click', events.onUndo);

  return {
    update(state) {
      submit.disabled = !state.canSubmit;
      undo.disabled = !state.canUndo;
    },
  };
}
