/** The shift fit's space (logit, probit, linear) and the group it is made on (kind model, or every non-human), and the fit in words. */
import { el, setText } from './dom';
import { FIT_SPACES, type FitSpace } from '../logic/shiftPlot';
import type { FitGroup } from '../logic/routes';

export interface FitControlsState {
  readonly space: FitSpace;
  readonly on: FitGroup;
  /** The fit stated in words (describeFit). */
  readonly text: string;
}

const SPACE_LABELS: Record<FitSpace, string> = {
  logit: 'logit (Taori et al. 2020)',
  probit: 'probit',
  linear: 'linear (the paper’s Figure 1)',
};

const GROUPS: readonly { value: FitGroup; label: string }[] = [
  { value: 'model', label: 'entries of kind model' },
  { value: 'non-human', label: 'every entry that is not human (the paper)' },
];

export function mountFitControls(
  parent: HTMLElement,
  events: { onSpace(space: FitSpace): void; onGroup(on: FitGroup): void },
): { update(state: FitControlsState): void } {
  function radio(name: string, value: string, label: string, onChange: () => void): { label: HTMLLabelElement; input: HTMLInputElement } {
    const input = el('input', { attrs: { type: 'radio', name, value }, testid: `${name}-${value}` });
    input.addEventListener('change', () => { if (input.checked) onChange(); });
    return { input, label: el('label', { class: 'toggle' }, input, ` ${label}`) };
  }
  const spaces = FIT_SPACES.map((s) => ({ value: s, ...radio('fit', s, SPACE_LABELS[s], () => events.onSpace(s)) }));
  const groups = GROUPS.map((g) => ({ value: g.value, ...radio('fitOn', g.value, g.label, () => events.onGroup(g.value)) }));
  const text = el('p', { class: 'fit-text', testid: 'fit-text' });
  parent.append(
    el('fieldset', { class: 'definition fit-controls' },
      el('legend', { text: 'Shift fit' }),
      el('span', { class: 'group-label', text: 'Space: ' }), ...spaces.map((s) => s.label),
      el('br'),
      el('span', { class: 'group-label', text: 'Fitted on: ' }), ...groups.map((g) => g.label)),
    text,
  );

  return {
    update(state) {
      for (const s of spaces) s.input.checked = s.value === state.space;
      for (const g of groups) g.input.checked = g.value === state.on;
      setText(text, state.text);
    },
  };
}
