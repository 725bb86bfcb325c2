/**
 * The candidate labels of the image under review, one keyed row each: lemma, wnid, state, gloss, the guide's notes,
 * examples, the five choices; for admins who stands on what and the adjudication buttons. Choices, focus and
 * adjudications bubble up as events; the desk owns the state.
 */
import type { GuideNote, ReviewLabel } from '../../api/types';
import { ADJUDICATIONS, verdictsLine, type AdjudicationVerdict, type ItemVerdicts } from '../../logic/adjudication';
import { CHOICES, type Choice } from '../../logic/review';
import { el, setAttr, setHidden, setText } from '../dom';
import { mountExampleStrip } from '../exampleStrip';
import { noteActions } from '../guideNoteEditor';
import { mountKeyedList } from '../keyedList';
import { renderMarkdown } from '../markdownView';

export interface LabelRowsState {
  readonly dataset: string;
  readonly labels: readonly ReviewLabel[];
  readonly notes: readonly GuideNote[];
  readonly choiceOf: (label: ReviewLabel) => Choice;
  readonly focus: number;
  readonly busy: boolean;
  readonly admin: boolean;
  /** Items someone else changed meanwhile (after a refused submit). */
  readonly changed: ReadonlySet<number>;
  /** Who stands on what, per item (admins only); undefined while it loads. */
  readonly standingOf: (itemId: number) => ItemVerdicts | undefined;
}

export interface LabelRowsEvents {
  onChoose(itemId: number, choice: Choice): void;
  onFocus(itemId: number): void;
  onAdjudicate(itemId: number, verdict: AdjudicationVerdict): void;
  /** Admins: edit a guide note shown beside a row, or it was deleted. */
  onEditNote(note: GuideNote): void;
  onNoteDeleted(id: number): void;
  onError(error: unknown): void;
}

interface RowValue {
  readonly label: ReviewLabel;
  readonly index: number;
  readonly state: LabelRowsState;
}

function noteView(note: GuideNote, labels: readonly ReviewLabel[], admin: LabelRowsEvents | null): HTMLElement {
  const name = (wnid: string): string => labels.find((l) => l.wnid === wnid)?.lemmas[0] ?? wnid;
  const title = note.otherWnid ? `${name(note.wnid)} vs ${name(note.otherWnid)}` : 'Guide';
  const body = el('div', { class: 'guide-note-body' });
  body.append(renderMarkdown(note.body));
  const view = el('aside', { class: 'guide-note', attrs: { 'data-note-id': String(note.id) } }, el('strong', { text: title }), body);
  if (admin) view.append(noteActions(note, { onEdit: admin.onEditNote, onDeleted: admin.onNoteDeleted, onError: admin.onError }));
  return view;
}

export function mountLabelRows(parent: HTMLElement, events: LabelRowsEvents, signal: AbortSignal): { update(state: LabelRowsState): void; scrollToFocus(): void } {
  const rows = el('ol', { class: 'review-rows', testid: 'review-rows' });
  parent.append(rows);

  const list = mountKeyedList<RowValue>(rows, (v) => String(v.label.itemId), (initial) => {
    const itemId = initial.label.itemId;
    const lemma = el('strong', { class: 'label-lemma' });
    const wnid = el('code');
    const badge = el('span', { class: 'badge', text: 'original' });
    const models = el('span', { class: 'muted' });
    const state = el('span', { class: 'state' });
    const changedMark = el('span', { class: 'badge changed', testid: 'changed-by-other', text: 'changed by someone else' });
    const gloss = el('p', { class: 'gloss' });
    const notes = el('div', { class: 'guide-notes', testid: 'guide-notes' });
    const examples = el('div', { class: 'examples' });
    const strip = mountExampleStrip(examples, signal);
    const radios = CHOICES.map((c) => {
      const input = el('input', { attrs: { type: 'radio', name: `choice-${itemId}`, value: c.value } });
      input.addEventListener('change', () => events.onChoose(itemId, c.value));
      return { choice: c.value, input, label: el('label', { class: `choice choice-${c.value}` }, input, ` ${c.label} `, el('kbd', { text: c.key })) };
    });
    const group = el('div', { class: 'choices', attrs: { role: 'radiogroup', 'aria-label': `Verdict for ${initial.label.lemmas[0] ?? initial.label.wnid}` } }, ...radios.map((r) => r.label));
    const verdicts = el('p', { class: 'review-verdicts', testid: 'review-verdicts' });
    const adjudicateButtons = ADJUDICATIONS.map((a) => {
      const button = el('button', { class: 'button button-small', testid: `adjudicate-${a.value}`, attrs: { type: 'button' }, text: a.label });
      button.addEventListener('click', () => {
        // Enter belongs to "submit and next" again once the adjudication is sent.
        button.blur();
        events.onAdjudicate(itemId, a.value);
      });
      return { verdict: a.value, button };
    });
    const adjudication = el('span', { class: 'adjudicate', testid: 'review-adjudicate', attrs: { role: 'group', 'aria-label': 'Adjudicate: the final word' } },
      el('span', { class: 'muted', text: 'Adjudicate:' }), ...adjudicateButtons.flatMap((b) => [' ', b.button]));
    const row = el('li', { class: 'review-row', testid: 'review-row' },
      el('div', { class: 'label-head' }, lemma, ' ', wnid, ' ', badge, ' ', models, ' ', state, ' ', changedMark, adjudication), verdicts, gloss, notes, examples, group);
    row.addEventListener('click', () => events.onFocus(itemId));
    let notesKey = '';
    return {
      el: row,
      update({ label, index, state: desk }) {
        row.dataset['itemId'] = String(label.itemId);
        row.dataset['wnid'] = label.wnid;
        const choice = desk.choiceOf(label);
        row.dataset['choice'] = choice;
        row.classList.toggle('focused', index === desk.focus);
        setAttr(row, 'aria-current', index === desk.focus ? 'true' : null);
        setText(lemma, label.lemmas.join(', '));
        setText(wnid, label.wnid);
        setHidden(badge, !label.isOriginal);
        setText(models, label.models === 1 ? '1 model' : `${label.models} models`);
        setText(state, label.state);
        state.className = `state state-${label.state}`;
        row.classList.toggle('conflict', label.state === 'conflict');
        row.classList.toggle('changed-by-other', desk.changed.has(label.itemId));
        setHidden(changedMark, !desk.changed.has(label.itemId));
        const mine = desk.admin ? desk.standingOf(label.itemId) : undefined;
        setHidden(adjudication, !desk.admin);
        for (const b of adjudicateButtons) {
          b.button.disabled = desk.busy || (b.verdict === 'unreviewed' && !mine?.adjudication);
          if (b.verdict !== 'unreviewed') setAttr(b.button, 'aria-pressed', mine?.adjudication?.verdict === b.verdict ? 'true' : 'false');
        }
        const said = [
          label.state === 'conflict' && mine ? verdictsLine(mine.verdicts) : '',
          mine?.adjudication ? `Adjudicated ${mine.adjudication.verdict} by ${mine.adjudication.author}` : '',
        ].filter((part) => part !== '').join(' · ');
        setText(verdicts, said);
        setHidden(verdicts, said === '');
        setText(gloss, label.gloss);
        for (const r of radios) if (r.input.checked !== (r.choice === choice)) r.input.checked = r.choice === choice;
        const relevant = desk.notes.filter((n) => n.wnid === label.wnid || n.otherWnid === label.wnid);
        const key = `${desk.admin}:${relevant.map((n) => `${n.id}:${n.updatedAt}`).join(',')}`;
        if (key !== notesKey) {
          notesKey = key;
          notes.replaceChildren(...relevant.map((n) => noteView(n, desk.labels, desk.admin ? events : null)));
        }
        strip.update(desk.dataset, label.wnid);
      },
    };
  });

  return {
    update(state) {
      list.update(state.labels.map((label, index) => ({ label, index, state })));
    },
    scrollToFocus() {
      rows.querySelector<HTMLElement>('.review-row.focused')?.scrollIntoView({ block: 'nearest' });
    },
  };
}
