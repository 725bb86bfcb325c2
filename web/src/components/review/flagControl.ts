/** The image's problematic flag: a box, a reason and a note ("other" needs one). Edits bubble up; the desk owns the draft. */
import { el } from '../dom';
import { FLAG_REASONS, type FlagDraft } from '../../logic/review';

export function mountFlagControl(parent: HTMLElement, events: { onChange(change: Partial<FlagDraft>): void }): { update(flag: FlagDraft): void; focusNote(): void } {
  const box = el('input', { testid: 'review-flag', attrs: { type: 'checkbox' } });
  const reason = el('select', { testid: 'review-flag-reason', attrs: { 'aria-label': 'Why the image is problematic' } },
    ...FLAG_REASONS.map((r) => el('option', { attrs: { value: r.value }, text: r.label })));
  const note = el('input', { testid: 'review-flag-note', attrs: { type: 'text', placeholder: 'Note (needed for "other")', maxlength: '5000', 'aria-label': 'Note on the flag' } });
  parent.append(el('fieldset', { class: 'review-flag' },
    el('legend', { text: 'Image' }), el('label', {}, box, ' Problematic (p)'), ' ', reason, ' ', note));

  box.addEventListener('change', () => events.onChange({ problematic: box.checked, reason: reason.value }));
  reason.addEventListener('change', () => events.onChange({ reason: reason.value }));
  note.addEventListener('input', () => events.onChange({ note: note.value }));

  return {
    update(flag) {
      if (box.checked !== flag.problematic) box.checked = flag.problematic;
      reason.disabled = !flag.problematic;
      if (flag.reason && reason.value !== flag.reason) reason.value = flag.reason;
      note.disabled = !flag.problematic;
      if (note.value !== flag.note) note.value = flag.note;
    },
    focusNote: () => note.focus(),
  };
}
