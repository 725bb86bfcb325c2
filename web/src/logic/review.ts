/**
 * The rules of the review screen, apart from the DOM: which key does what, what a submit sends, and what undoing
 * a submit sends back. Pure.
 */

export type Choice = 'correct' | 'wrong' | 'unclear' | 'dont-know' | 'unreviewed';

export const CHOICES: readonly { readonly value: Choice; readonly label: string; readonly key: string }[] = [
  { value: 'correct', label: 'Correct', key: '1' },
  { value: 'wrong', label: 'Wrong', key: '2' },
  { value: 'unclear', label: 'Unclear', key: '3' },
  { value: 'dont-know', label: "Don't know", key: '4' },
  { value: 'unreviewed', label: 'Unreviewed', key: '0' },
];

export const FLAG_REASONS: readonly { readonly value: string; readonly label: string }[] = [
  { value: 'wrong-original-label', label: 'Wrong original label' },
  { value: 'unclear-original-label', label: 'Unclear original label' },
  { value: 'drawing-or-render', label: 'Drawing, painting, cartoon or render' },
  { value: 'excessively-edited', label: 'Excessively edited' },
  { value: 'inappropriate', label: 'Inappropriate' },
  { value: 'other', label: 'Other (say why)' },
];

export type SkipReason = 'needs-expert' | 'image-wont-load' | 'unsure';

/** Why a reviewer skips an image; the keys choose while the skip panel is open. */
export const SKIP_REASONS: readonly { readonly value: SkipReason; readonly label: string; readonly key: string }[] = [
  { value: 'needs-expert', label: 'Needs an expert', key: '1' },
  { value: 'image-wont-load', label: "Image won't load", key: '2' },
  { value: 'unsure', label: 'Unsure', key: '3' },
];

/** Adjudication keys: shift with the choice's own key gives the final word (the key's code, so any layout works). */
export const ADJUDICATION_KEYS: readonly { readonly code: string; readonly verdict: 'correct' | 'wrong' | 'unclear' | 'unreviewed' }[] = [
  { code: 'Digit1', verdict: 'correct' },
  { code: 'Digit2', verdict: 'wrong' },
  { code: 'Digit3', verdict: 'unclear' },
  { code: 'Digit0', verdict: 'unreviewed' },
];

export type KeyAction =
  | { readonly kind: 'choose'; readonly choice: Choice }
  | { readonly kind: 'move'; readonly by: 1 | -1 }
  | { readonly kind: 'zoom'; readonly by: 'in' | 'out' | 'reset' }
  | { readonly kind: 'pan'; readonly dx: -1 | 0 | 1; readonly dy: -1 | 0 | 1 }
  | { readonly kind: 'adjudicate'; readonly verdict: 'correct' | 'wrong' | 'unclear' | 'unreviewed' }
  | { readonly kind: 'skip-reason'; readonly reason: SkipReason }
  | { readonly kind: 'submit' | 'toggle-problematic' | 'undo' | 'skip' | 'skip-confirm' | 'skip-cancel' };

export interface KeyContext {
  readonly shift?: boolean;
  /** KeyboardEvent.code, for shift+digit (whose key differs by layout). */
  readonly code?: string;
  /** The skip panel is open: digits choose its reason, Enter skips, Escape cancels. */
  readonly skipping?: boolean;
  /** Admins adjudicate with shift+digit. */
  readonly admin?: boolean;
}

const PAN_KEYS: Readonly<Record<string, { dx: -1 | 0 | 1; dy: -1 | 0 | 1 }>> = {
  ArrowLeft: { dx: 1, dy: 0 },
  ArrowRight: { dx: -1, dy: 0 },
  ArrowUp: { dx: 0, dy: 1 },
  ArrowDown: { dx: 0, dy: -1 },
};

/** The one line of key help, as the desk shows it (admins see the adjudication keys too). */
export function keyHelp(admin: boolean): string {
  return [
    "Keys: 1 correct · 2 wrong · 3 unclear · 4 don't know · 0 unreviewed · j/k ↑/↓ move · Enter submit · p flag · u undo · s skip",
    '+/− zoom · z reset zoom · shift+arrows pan',
    ...(admin ? ['shift+1/2/3 adjudicate correct/wrong/unclear · shift+0 withdraw'] : []),
  ].join(' · ');
}

/**
 * The action of a key press on the review screen, or null when the key is not a shortcut there. Arrows move the image
 * when shift is held (the view moves the way the arrow points).
 */
export function keyAction(key: string, context: KeyContext = {}): KeyAction | null {
  if (context.skipping) {
    const reason = SKIP_REASONS.find((r) => r.key === key);
    if (reason) return { kind: 'skip-reason', reason: reason.value };
    if (key === 'Enter') return { kind: 'skip-confirm' };
    if (key === 'Escape' || key === 's') return { kind: 'skip-cancel' };
    return null;
  }
  if (context.shift) {
    const pan = PAN_KEYS[key];
    if (pan) return { kind: 'pan', ...pan };
    const adjudication = ADJUDICATION_KEYS.find((a) => a.code === context.code);
    if (adjudication) return context.admin ? { kind: 'adjudicate', verdict: adjudication.verdict } : null;
  }
  const choice = CHOICES.find((c) => c.key === key) ?? (key === '5' ? CHOICES[4] : undefined);
  if (choice) return { kind: 'choose', choice: choice.value };
  switch (key) {
    case 'ArrowDown':
    case 'j':
      return { kind: 'move', by: 1 };
    case 'ArrowUp':
    case 'k':
      return { kind: 'move', by: -1 };
    case 'Enter':
      return { kind: 'submit' };
    case 'p':
      return { kind: 'toggle-problematic' };
    case 'u':
      return { kind: 'undo' };
    case 's':
      return { kind: 'skip' };
    case '+':
    case '=':
      return { kind: 'zoom', by: 'in' };
    case '-':
    case '_':
      return { kind: 'zoom', by: 'out' };
    case 'z':
      return { kind: 'zoom', by: 'reset' };
    default:
      return null;
  }
}

export interface LabelState {
  readonly itemId: number;
  readonly version: number;
  readonly myVerdict?: string | null;
}

export interface FlagState {
  readonly problematic: boolean;
  readonly reason?: string | null;
  readonly version: number;
}

export interface FlagDraft {
  readonly problematic: boolean;
  readonly reason: string | null;
  readonly note: string;
}

export interface Submission {
  verdicts: { itemId: number; version: number; verdict: Choice }[];
  flag: { problematic: boolean; reason: string | null; note: string; version: number } | null;
  secondsSpent: number;
}

/** The reviewer's standing choice for a label: their own verdict, or "unreviewed". */
export function standingChoice(label: LabelState): Choice {
  return (label.myVerdict as Choice | null | undefined) ?? 'unreviewed';
}

/** What a submit sends: a verdict per label, and the flag only when the reviewer changed it. */
export function buildSubmission(
  labels: readonly LabelState[],
  choices: ReadonlyMap<number, Choice>,
  flag: FlagState,
  draft: FlagDraft,
  secondsSpent: number,
): Submission {
  const changedFlag =
    draft.problematic !== flag.problematic || (draft.problematic && draft.reason !== (flag.reason ?? null)) || draft.note.trim() !== '';
  return {
    verdicts: labels.map((l) => ({ itemId: l.itemId, version: l.version, verdict: choices.get(l.itemId) ?? standingChoice(l) })),
    flag: changedFlag
      ? { problematic: draft.problematic, reason: draft.problematic ? draft.reason : null, note: draft.note.trim(), version: flag.version }
      : null,
    secondsSpent: Math.max(0, Math.round(secondsSpent * 10) / 10),
  };
}

/**
 * Undoing a submit is a new submit: every label whose verdict changed goes back to the reviewer's earlier verdict
 * (or "unreviewed"), at the versions the submit returned; a changed flag goes back likewise.
 */
export function buildUndo(
  before: readonly LabelState[],
  beforeFlag: FlagState,
  sent: Submission,
  after: { readonly items: readonly { itemId: number; version: number }[]; readonly flag: FlagState },
): Submission {
  const versions = new Map(after.items.map((i) => [i.itemId, i.version]));
  const verdicts = sent.verdicts
    .map((v) => {
      const label = before.find((l) => l.itemId === v.itemId);
      const previous = label ? standingChoice(label) : 'unreviewed';
      return previous === v.verdict ? null : { itemId: v.itemId, version: versions.get(v.itemId) ?? v.version, verdict: previous };
    })
    .filter((v): v is Submission['verdicts'][number] => v !== null);
  return {
    verdicts,
    flag: sent.flag
      ? { problematic: beforeFlag.problematic, reason: beforeFlag.problematic ? (beforeFlag.reason ?? null) : null, note: '', version: after.flag.version }
      : null,
    secondsSpent: 0,
  };
}
