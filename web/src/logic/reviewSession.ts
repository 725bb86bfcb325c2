/**
 * What the review desk says about the session and the queue, apart from the DOM: images reviewed this session, the
 * time left at the reviewer's own pace, and why a queue is empty. Pure.
 */
import type { ReviewMode } from './adjudication';

/** The median of the seconds spent per image, or null before the first image. */
export function medianSeconds(seconds: readonly number[]): number | null {
  if (seconds.length === 0) return null;
  const sorted = [...seconds].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Seconds left for `remaining` images at the reviewer's median pace this session (the median, not the mean: one
 * image left open over a coffee break must not double the estimate); null when there is no pace or nothing to count.
 */
export function estimateSecondsLeft(remaining: number | null, seconds: readonly number[]): number | null {
  const median = medianSeconds(seconds);
  if (median === null || remaining === null) return null;
  return Math.max(0, remaining) * median;
}

/** "45 s", "12 min", "3 h 20 min". */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

export interface QueueCounts {
  /** Images with at least one pending label, and with at least one conflict. */
  readonly pendingImages: number;
  readonly conflictImages: number;
  /** Candidate labels in all. */
  readonly items: number;
}

/** Images left in the chosen queue, or null when the counts do not tell (the problematic queue). */
export function remainingImages(mode: ReviewMode, counts: QueueCounts | null): number | null {
  if (counts === null) return null;
  if (mode === 'pending') return counts.pendingImages;
  if (mode === 'conflicts') return counts.conflictImages;
  return null;
}

/** The status bar's session line: "this session: 3 images · about 12 min left for 40 images". */
export function sessionLine(reviewed: number, remaining: number | null, seconds: readonly number[]): string {
  const done = `this session: ${reviewed} ${reviewed === 1 ? 'image' : 'images'}`;
  if (remaining === null) return done;
  const left = estimateSecondsLeft(remaining, seconds);
  const images = `${remaining} ${remaining === 1 ? 'image' : 'images'}`;
  return left === null ? `${done} · ${images} left` : `${done} · about ${formatDuration(left)} left for ${images}`;
}

/** Why a queue has nothing for the reviewer, in words that say what to do or why nothing will come. */
export function emptyQueueReason(mode: ReviewMode, rule: string | null, counts: QueueCounts | null, skipped: number): string {
  if (counts !== null && counts.items === 0)
    return 'This dataset has no candidate labels yet: they come from uploaded model predictions (and its original labels). Upload predictions first.';
  const skippedNote = skipped > 0 ? ` You skipped ${skipped} ${skipped === 1 ? 'image' : 'images'} this session; they come back when you reload.` : '';
  switch (mode) {
    case 'pending':
      return counts !== null && counts.pendingImages === 0
        ? 'Every candidate label of this dataset has a verdict. Thank you!'
        : `Nothing left for you here: the remaining pending images are reviewed by you already or reserved by other reviewers for a few minutes.${skippedNote}`;
    case 'conflicts':
      if (rule !== null && !rule.startsWith('agreement:'))
        return `Conflicts only arise under an agreement rule; this dataset decides by ${rule === 'latest' ? 'the latest verdict' : `the "${rule}" rule`}.`;
      return counts !== null && counts.conflictImages === 0
        ? 'No conflicts: every label with verdicts has reviewers in agreement.'
        : `No conflicts left for you here: the others are reserved by other reviewers or you submitted them already.${skippedNote}`;
    case 'problematic':
      return 'No image flagged problematic is left for you here.';
  }
}
