/** A labeling task's position bar: previous, "n of N (part p)", next, pause and submit. */
import { el, setText } from '../dom';

export interface TaskBarState {
  readonly position: number | null;
  readonly images: number;
  readonly part: number | null;
  readonly submitted: boolean;
}

export function mountTaskBar(parent: HTMLElement, events: { onMove(by: 1 | -1): void; onPause(): void; onSubmit(): void }): { update(state: TaskBarState): void } {
  const position = el('span', { testid: 'labeling-position' });
  const prev = el('button', { attrs: { type: 'button' }, text: '← Previous' });
  const forward = el('button', { attrs: { type: 'button' }, text: 'Next →' });
  const pause = el('button', { testid: 'labeling-pause', attrs: { type: 'button' }, text: 'Pause' });
  const submit = el('button', { testid: 'labeling-submit', attrs: { type: 'button' }, text: 'Submit task' });
  parent.append(el('div', { class: 'review-bar' }, prev, position, forward, ' ', pause, ' ', submit));
  prev.addEventListener('click', () => events.onMove(-1));
  forward.addEventListener('click', () => events.onMove(1));
  pause.addEventListener('click', events.onPause);
  submit.addEventListener('click', events.onSubmit);

  return {
    update(state) {
      submit.disabled = state.submitted;
      pause.disabled = state.submitted;
      if (state.position === null) return;
      setText(position, ` ${state.position} of ${state.images} (part ${state.part}) `);
      prev.disabled = state.position <= 1;
      forward.disabled = state.position >= state.images;
    },
  };
}
