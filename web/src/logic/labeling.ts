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
