/** Pure rules of the labeling screen: progress text and which tree children lead to classes. */

export interface ProgressCounts {
  readonly answered: number;
  readonly total: number;
  readonly partsCompleted: number;
  readonly parts: number;
}

/** "completed 100 of 236 images, 10 of 24 parts". */
export function progressText(p: ProgressCounts): string {
  return `completed ${p.answered} of ${p.total} images, ${p.partsCompleted} of ${p.parts} parts`;
}

export interface TreeChild {
  readonly inLabelSpace: boolean;
  readonly classesBelow: number;
}

/** A tree node is worth showing when it is a class or has classes below it. */
export function leadsToClasses(child: TreeChild): boolean {
  return child.inLabelSpace || child.classesBelow > 0;
}

/** A node can be expanded when there are classes strictly below it. */
export function expandable(child: TreeChild): boolean {
  return child.classesBelow > (child.inLabelSpace ? 1 : 0);
}

/** 0.8333 -> "83%". */
export function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** The highlighted search hit after an arrow key: it wraps around at both ends. */
export function moveHighlight(highlighted: number, by: 1 | -1, count: number): number {
  return count === 0 ? 0 : (highlighted + by + count) % count;
}

/** A class as a note names it: its first lemma when known, else its wnid. */
export type NameOf = (wnid: string) => string;

/** "tench vs goldfish", or the one class a note is about. */
export function noteTitle(note: { readonly wnid: string; readonly otherWnid?: string | null }, name: NameOf, single?: string): string {
  return note.otherWnid ? `${name(note.wnid)} vs ${name(note.otherWnid)}` : (single ?? name(note.wnid));
}

export interface MistakeLine {
  readonly position: number;
  readonly text: string;
}

/** The lines under a completed training part: a summary, then each mistake with what was said and what is right. */
export function partSummary(
  mistakes: readonly { readonly position: number; readonly answer: string; readonly correctLabels: readonly string[] }[] | null,
  complete: boolean,
  name: NameOf,
): { readonly heading: string | null; readonly lines: readonly MistakeLine[] } {
  if (!complete || mistakes === null) return { heading: null, lines: [] };
  return {
    heading: mistakes.length === 0 ? 'Part complete without mistakes.' : `Part complete; ${mistakes.length} mistake(s) to review:`,
    lines: mistakes.map((m) => ({ position: m.position, text: `: you said ${name(m.answer)}, correct ${m.correctLabels.map(name).join(', ')}` })),
  };
}
