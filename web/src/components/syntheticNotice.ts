/**
 * Says how many of the entries shown have synthetic predictions (tagged 'synthetic' by make demo-zoo): generated to
 * match published accuracies, not made by the models they are named after. Hidden when there are none.
 */
import { el, setHidden, setText } from './dom';

export const syntheticTag = 'synthetic';

export function mountSyntheticNotice(parent: HTMLElement, testid: string): { update(synthetic: number, of: string): void } {
  const note = el('p', { class: 'notice', testid });
  parent.append(note);
  return {
    update(synthetic, of) {
      setText(note, `${synthetic} of ${of} have synthetic predictions: generated to match published accuracies ` +
        '(make demo-zoo), not made by the models they are named after.');
      setHidden(note, synthetic === 0);
    },
  };
}
