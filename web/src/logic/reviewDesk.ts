/**
 * The state of the review desk (one image, the reviewer's choices on its labels, the focused row, the flag draft) and
 * every change a key or a click makes to it. Pure: each function returns a new state; the page renders it.
 */
import { FLAG_REASONS, standingChoice, type Choice, type FlagDraft, type LabelState, type Submission } from './review';

export interface DeskLabel extends LabelState {
  readonly state: string;
}

export interface DeskImage<L extends DeskLabel = DeskLabel> {
  readonly image: { readonly id: number; readonly fileName: string };
  readonly labels: readonly L[];
  readonly flag: { readonly problematic: boolean; readonly reason?: string | null; readonly version: number };
}

export interface DeskState<I extends DeskImage = DeskImage> {
  /** The image on screen; null before the first one arrives or when the queue is empty. */
  readonly current: I | null;
  /** The reviewer's choices on this image by item id (rows without one show their standing verdict). */
  readonly choices: ReadonlyMap<number, Choice>;
  /** The focused row (its index in current.labels). */
  readonly focus: number;
  readonly flag: FlagDraft;
  /** When the image was shown (performance.now()), for the seconds spent. */
  readonly shownAt: number;
  /** A request is on its way: submit, undo and adjudicate wait. */
  readonly busy: boolean;
  /** The queue answered that it has nothing more. */
  readonly empty: boolean;
  /** The last action, in words. */
  readonly status: string;
  /** Verdicts the reviewer wrote today (from progress, then counted along). */
  readonly today: number;
  /** Images submitted in this session. */
  readonly submits: number;
  /** Items someone else changed while the reviewer worked (after a 409), marked until the next image. */
  readonly changed: ReadonlySet<number>;
}

export const NO_FLAG: FlagDraft = { problematic: false, reason: null, note: '' };

export function initialDesk<I extends DeskImage>(): DeskState<I> {
  return {
    current: null, choices: new Map(), focus: 0, flag: NO_FLAG, shownAt: 0, busy: false, empty: false, status: '', today: 0, submits: 0,
    changed: new Set(),
  };
}

/** A new image on screen: no choices yet, focus on the first row, the flag as the image has it. */
export function showImage<I extends DeskImage>(state: DeskState<I>, image: I | null, now: number): DeskState<I> {
  return {
    ...state,
    current: image,
    choices: new Map(),
    focus: 0,
    flag: image ? { problematic: image.flag.problematic, reason: image.flag.reason ?? null, note: '' } : NO_FLAG,
    shownAt: now,
    empty: image === null,
    changed: new Set(),
  };
}

/**
 * A submit was refused (409: someone else changed the image): the image as it is now, with every choice the reviewer
 * made kept (a resubmit sends them at the fresh versions) and the items that changed marked.
 */
export function keepChoicesAfterConflict<I extends DeskImage>(state: DeskState<I>, fresh: I): DeskState<I> {
  if (state.current?.image.id !== fresh.image.id) return state;
  const before = new Map(state.current.labels.map((l) => [l.itemId, l]));
  const changed = new Set(
    fresh.labels.filter((l) => { const old = before.get(l.itemId); return !old || old.version !== l.version || old.state !== l.state; }).map((l) => l.itemId),
  );
  // A choice the reviewer left at their standing verdict is made explicit, so the fresh labels do not change it.
  const choices = new Map(state.current.labels.map((l) => [l.itemId, state.choices.get(l.itemId) ?? standingChoice(l)]));
  return { ...state, current: fresh, choices, changed };
}

/** After an undo: the image again with the choices and the flag the reviewer had sent, ready to change and resubmit. */
export function restoreSubmission<I extends DeskImage>(state: DeskState<I>, sent: Submission): DeskState<I> {
  if (!state.current) return state;
  const choices = new Map(sent.verdicts.map((v) => [v.itemId, v.verdict]));
  const flag = sent.flag ? { problematic: sent.flag.problematic, reason: sent.flag.reason, note: sent.flag.note } : state.flag;
  return { ...state, choices, flag };
}

/** The choice a row shows: the reviewer's choice on this image, else their standing verdict. */
export function shownChoice(state: DeskState, label: DeskLabel): Choice {
  return state.choices.get(label.itemId) ?? standingChoice(label);
}

function withChoice<I extends DeskImage>(state: DeskState<I>, itemId: number, choice: Choice): ReadonlyMap<number, Choice> {
  const choices = new Map(state.choices);
  choices.set(itemId, choice);
  return choices;
}

/** A key chooses for the focused row, and the focus moves on to the next row, as in a form filled top to bottom. */
export function chooseFocused<I extends DeskImage>(state: DeskState<I>, choice: Choice): DeskState<I> {
  const label = state.current?.labels[state.focus];
  if (!label) return state;
  const last = (state.current?.labels.length ?? 1) - 1;
  return { ...state, choices: withChoice(state, label.itemId, choice), focus: Math.min(state.focus + 1, last) };
}

/** A click chooses for its row, which takes the focus. */
export function chooseFor<I extends DeskImage>(state: DeskState<I>, itemId: number, choice: Choice): DeskState<I> {
  if (!state.current) return state;
  return { ...focusItem(state, itemId), choices: withChoice(state, itemId, choice) };
}

export function focusItem<I extends DeskImage>(state: DeskState<I>, itemId: number): DeskState<I> {
  const index = state.current?.labels.findIndex((l) => l.itemId === itemId) ?? -1;
  return { ...state, focus: Math.max(0, index) };
}

export function moveFocus<I extends DeskImage>(state: DeskState<I>, by: number): DeskState<I> {
  const count = state.current?.labels.length ?? 0;
  if (count === 0) return state;
  return { ...state, focus: Math.min(Math.max(0, state.focus + by), count - 1) };
}

/** "p": toggles the flag; a first flag takes the first reason. */
export function toggleProblematic<I extends DeskImage>(state: DeskState<I>): DeskState<I> {
  return { ...state, flag: { ...state.flag, problematic: !state.flag.problematic, reason: state.flag.reason ?? FLAG_REASONS[0]?.value ?? null } };
}

export function editFlag<I extends DeskImage>(state: DeskState<I>, change: Partial<FlagDraft>): DeskState<I> {
  return { ...state, flag: { ...state.flag, ...change } };
}

/** Why the flag cannot be sent as it is, or null: "other" needs a note. */
export function flagProblem(flag: FlagDraft): string | null {
  return flag.problematic && flag.reason === 'other' && flag.note.trim() === '' ? 'Say why the image is problematic ("other" needs a note).' : null;
}

/** The image with fresh labels (states and versions) from the server, the reviewer's choices kept. */
export function replaceLabels<I extends DeskImage>(state: DeskState<I>, imageId: number, labels: I['labels']): DeskState<I> {
  if (state.current?.image.id !== imageId) return state;
  return { ...state, current: { ...state.current, labels } };
}
