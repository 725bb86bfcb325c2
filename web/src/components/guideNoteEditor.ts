/**
 * Writing the labeling guide where its notes are shown (the review desk, the guide page): an editor with class pickers
 * for the class and the optional "vs" class, and Edit/Delete buttons for a shown note. Admins only; the server checks.
 */
import { api, isAbortError, toProblem } from '../api/client';
import type { GuideNote } from '../api/types';
import { mountClassPicker, type ClassChoice } from './classPicker';
import { el, setText } from './dom';
import { mountProblemBox } from './problemBox';

export interface NoteDraft {
  /** The note edited, or null for a new one (a new note on an existing class or pair replaces that note's text). */
  readonly id: number | null;
  readonly wnid: ClassChoice | null;
  readonly other: ClassChoice | null;
  readonly body: string;
}

export interface GuideNoteEditor {
  open(draft: NoteDraft): void;
  close(): void;
}

export function mountGuideNoteEditor(
  parent: HTMLElement,
  options: { readonly signal: AbortSignal; onSaved(note: GuideNote): void },
): GuideNoteEditor {
  const heading = el('h2');
  const fields = el('div', { class: 'guide-editor-classes' });
  const body = el('textarea', {
    testid: 'guide-edit-body',
    attrs: { rows: '4', placeholder: 'Note (Markdown: paragraphs, lists, emphasis, links)', 'aria-label': 'Note text', maxlength: '20000' },
  });
  const save = el('button', { class: 'button button-primary', testid: 'guide-edit-save', attrs: { type: 'submit' }, text: 'Save note' });
  const cancel = el('button', { class: 'button', attrs: { type: 'button' }, text: 'Cancel' });
  const problem = el('div');
  const form = el('form', { class: 'guide-editor', testid: 'guide-editor' }, heading, fields, body, el('p', {}, save, ' ', cancel), problem);
  form.hidden = true;
  parent.append(form);
  const wnid = mountClassPicker(fields, { label: 'Class', testid: 'guide-edit-class', optional: false, signal: options.signal });
  const other = mountClassPicker(fields, { label: 'Versus class (for "X vs Y", optional)', testid: 'guide-edit-other', optional: true, signal: options.signal });
  const problemBox = mountProblemBox(problem);
  let editing: number | null = null;

  function close(): void {
    form.hidden = true;
    problemBox.update(null);
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const cls = wnid.value();
    if (!cls) {
      problemBox.update({ status: 422, title: 'Choose the class the note is about', detail: 'Type a lemma in "Class" and pick one.', errors: [], errorCount: 0, traceId: null });
      return;
    }
    const request = { wnid: cls.wnid, otherWnid: other.value()?.wnid ?? null, body: body.value };
    save.disabled = true;
    (editing === null
      ? api.put('/api/guide-notes', { body: request })
      : api.put('/api/guide-notes/{id}', { path: { id: editing }, body: request }))
      .then((note) => {
        close();
        options.onSaved(note);
      })
      .catch((error: unknown) => {
        if (!isAbortError(error)) problemBox.update(toProblem(error));
      })
      .finally(() => {
        save.disabled = false;
      });
  });
  cancel.addEventListener('click', close);
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') close();
  });

  return {
    open(draft) {
      editing = draft.id;
      setText(heading, draft.id === null ? 'New guide note' : 'Edit guide note');
      wnid.set(draft.wnid);
      other.set(draft.other);
      body.value = draft.body;
      problemBox.update(null);
      form.hidden = false;
      form.scrollIntoView({ block: 'nearest' });
      body.focus();
    },
    close,
  };
}

/**
 * Edit and Delete for one shown note. Delete asks once more on the same button (no dialog), then deletes and reports.
 */
export function noteActions(
  note: GuideNote,
  events: { onEdit(note: GuideNote): void; onDeleted(id: number): void; onError(error: unknown): void },
): HTMLElement {
  const edit = el('button', { class: 'button button-small', testid: 'guide-note-edit', attrs: { type: 'button' }, text: 'Edit' });
  const remove = el('button', { class: 'button button-small', testid: 'guide-note-delete', attrs: { type: 'button' }, text: 'Delete' });
  let armed = false;
  edit.addEventListener('click', (event) => {
    event.stopPropagation();
    edit.blur();
    events.onEdit(note);
  });
  remove.addEventListener('click', (event) => {
    event.stopPropagation();
    if (!armed) {
      armed = true;
      setText(remove, 'Delete: sure?');
      return;
    }
    remove.disabled = true;
    api
      .delete('/api/guide-notes/{id}', { path: { id: note.id } })
      .then(() => events.onDeleted(note.id))
      .catch((error: unknown) => {
        remove.disabled = false;
        events.onError(error);
      });
  });
  return el('span', { class: 'guide-note-actions' }, edit, ' ', remove);
}
