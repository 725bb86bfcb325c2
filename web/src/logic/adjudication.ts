/**
 * The review queues and an admin's adjudication, apart from the DOM: which queue a URL asks for, what each
 * adjudication button sends, and who stands on what verdict for each item, read from an image's history. Pure.
 */

export type ReviewMode = 'pending' | 'conflicts' | 'problematic';

export const REVIEW_MODES: readonly { readonly value: ReviewMode; readonly label: string }[] = [
  { value: 'pending', label: 'Pending' },
  { value: 'conflicts', label: 'Conflicts' },
  { value: 'problematic', label: 'Problematic' },
];

/** The queue a "mode" URL parameter asks for; anything unknown is the default, pending. */
export function parseMode(raw: string | null): ReviewMode {
  return REVIEW_MODES.find((m) => m.value === raw)?.value ?? 'pending';
}

export type AdjudicationVerdict = 'correct' | 'wrong' | 'unclear' | 'unreviewed';

/** An admin's choices; "unreviewed" withdraws the adjudication and hands the item back to the consensus rule. */
export const ADJUDICATIONS: readonly { readonly value: AdjudicationVerdict; readonly label: string }[] = [
  { value: 'correct', label: 'Correct' },
  { value: 'wrong', label: 'Wrong' },
  { value: 'unclear', label: 'Unclear' },
  { value: 'unreviewed', label: 'Withdraw' },
];

/** The fields of a history event this module reads (GET /api/images/{id}/history). */
export interface VerdictHistoryEvent {
  readonly id: number;
  readonly kind: string;
  readonly author: string;
  readonly itemId?: number | null;
  readonly verdict?: string | null;
  readonly adjudication: boolean;
}

export interface StandingVerdict {
  readonly author: string;
  readonly verdict: string;
}

export interface ItemVerdicts {
  /** Each author's standing verdict (their latest one, withdrawn ones left out), in the order they were given. */
  readonly verdicts: readonly StandingVerdict[];
  /** The adjudication in force, or null (none, or withdrawn). */
  readonly adjudication: StandingVerdict | null;
}

const DECISIVE = new Set(['correct', 'wrong', 'unclear']);

/**
 * Who stands on what, per item, as the server's consensus reads the events: an author's latest verdict stands
 * and "unreviewed" withdraws it; the latest adjudication decides unless it is a withdrawal.
 */
export function itemVerdicts(events: readonly VerdictHistoryEvent[]): Map<number, ItemVerdicts> {
  const standing = new Map<number, Map<string, { id: number; verdict: string }>>();
  const adjudications = new Map<number, { id: number; author: string; verdict: string }>();
  for (const e of [...events].sort((a, b) => a.id - b.id)) {
    if (e.kind !== 'verdict' || e.itemId == null || !e.verdict) continue;
    if (e.adjudication) {
      adjudications.set(e.itemId, { id: e.id, author: e.author, verdict: e.verdict });
      continue;
    }
    let authors = standing.get(e.itemId);
    if (!authors) standing.set(e.itemId, (authors = new Map()));
    if (e.verdict === 'unreviewed') authors.delete(e.author);
    else authors.set(e.author, { id: e.id, verdict: e.verdict });
  }
  const result = new Map<number, ItemVerdicts>();
  for (const itemId of new Set([...standing.keys(), ...adjudications.keys()])) {
    const verdicts = [...(standing.get(itemId) ?? new Map<string, { id: number; verdict: string }>())]
      .sort((a, b) => a[1].id - b[1].id)
      .map(([author, v]) => ({ author, verdict: v.verdict }));
    const last = adjudications.get(itemId);
    result.set(itemId, {
      verdicts,
      adjudication: last && DECISIVE.has(last.verdict) ? { author: last.author, verdict: last.verdict } : null,
    });
  }
  return result;
}

const VERDICT_WORDS: Readonly<Record<string, string>> = { 'dont-know': "don't know" };

/** "ann: correct · bob: wrong", or "" when nobody stands on a verdict. */
export function verdictsLine(verdicts: readonly StandingVerdict[]): string {
  return verdicts.map((v) => `${v.author}: ${VERDICT_WORDS[v.verdict] ?? v.verdict}`).join(' · ');
}
