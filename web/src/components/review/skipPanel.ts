/**
 * Skip with a reason: `s` opens this panel under the rows; a reason (its key or a click), an optional note, then Enter
 * or the button skips; Escape cancels. The desk owns whether it is open and what is chosen.
 */
import { SKIP_REASONS, type SkipReason } from '../../logic/review';
import { el, setHidden } from '../dom';

export interface SkipPanelState {
  readonly open: boolean;
  readonly reason: SkipReason | null;
  readonly busy: boolean;
}

export interface SkipPanel {
  update(state: SkipPanelState): void;
  note(): string;
}

export function mountSkipPanel(
  parent: HTMLElement,
  events: { onReason(reason: SkipReason): void; onConfirm(): void; onCancel(): void },
): SkipPanel {
  const radios = SKIP_REASONS.map((r) => {
    const input = el('input', { attrs: { type: 'radio', name: 'skip-reason', value: r.value } });
    input.addEventListener('change', () => events.onReason(r.value));
    return { reason: r.value, input, label: el('label', { testid: `skip-${r.value}` }, input, ` ${r.label} `, el('kbd', { text: r.key })) };
  });
  const note = el('input', { testid: 'skip-note', attrs: { type: 'text', maxlength: '1000', placeholder: 'Note (optional)', 'aria-label': 'Note on the skip' } });
  const confirm = el('button', { class: 'button button-small', testid: 'skip-confirm', attrs: { type: 'submit' }, text: 'Skip (Enter)' });
  const cancel = el('button', { class: 'button button-small', attrs: { type: 'button' }, text: 'Cancel (Esc)' });
  const group = el('div', { attrs: { role: 'radiogroup', 'aria-label': 'Why skip this image' } }, ...radios.map((r) => r.label));
  const form = el('form', { class: 'review-skip', testid: 'review-skip' },
    el('strong', { text: 'Skip this image: why?' }), ' ', group, note, confirm, ' ', cancel);
  form.hidden = true;
  parent.append(form);

  let opener: HTMLElement | null = null;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    events.onConfirm();
  });
  cancel.addEventListener('click', events.onCancel);
  note.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') events.onCancel();
  });

  return {
    update(state) {
      const opening = state.open && form.hidden;
      if (opening) opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      // Closed from inside (Cancel, Escape in the note, the skip done), the focus goes back where it was, not to the page's start.
      const returnFocus = !state.open && !form.hidden && form.contains(document.activeElement);
      setHidden(form, !state.open);
      if (returnFocus) {
        if (opener?.isConnected) opener.focus();
        opener = null;
      }
      if (!state.open) note.value = '';
      for (const r of radios) if (r.input.checked !== (r.reason === state.reason)) r.input.checked = r.reason === state.reason;
      confirm.disabled = state.busy || state.reason === null;
      if (opening) form.scrollIntoView({ block: 'nearest' });
    },
    note: () => note.value.trim(),
  };
}
