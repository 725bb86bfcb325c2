/**
 * The drill-down pages (model, image, hard images): who may see image files, paging a list, the candidate labels of an
 * image from what every entry predicted, and the caption of a hard image. Pure: no DOM.
 */

/** Image files are served to signed-in users, and to everyone on a dataset whose images are public. */
export function canSeeImages(signedIn: boolean, imagesPublic: boolean): boolean {
  return signedIn || imagesPublic;
}

export interface PageSlice<T> {
  readonly items: readonly T[];
  /** The page shown, from 1, clamped to the pages there are. */
  readonly page: number;
  readonly pages: number;
  /** The position of the first item shown, from 1 (0 for an empty list). */
  readonly first: number;
  readonly last: number;
}

/** One page of a list: page numbers outside 1..pages are clamped, an empty list has one empty page. */
export function pageOf<T>(items: readonly T[], page: number, size: number): PageSlice<T> {
  const pages = Math.max(1, Math.ceil(items.length / size));
  const p = Number.isFinite(page) ? Math.min(Math.max(1, Math.floor(page)), pages) : 1;
  const start = (p - 1) * size;
  const slice = items.slice(start, start + size);
  return { items: slice, page: p, pages, first: slice.length === 0 ? 0 : start + 1, last: start + slice.length };
}

export interface PredictionLike {
  readonly model: string;
  readonly displayName: string;
  readonly kind: string;
  readonly top1Wnid: string;
  readonly top1Lemma: string;
  readonly state: string;
}

export interface CandidateRow {
  readonly wnid: string;
  readonly lemma: string;
  /** The review verdict of the (image, label) item: pending, correct, wrong, unclear or conflict; null when no entry predicted it (not known here). */
  readonly state: string | null;
  readonly isOriginal: boolean;
  readonly models: readonly PredictionLike[];
  readonly humans: readonly PredictionLike[];
}

/**
 * The candidate labels of an image: the original label and every entry's top-1, each with its verdict and who
 * predicted it; the original first, then by how many predicted it, then by name.
 */
export function candidateRows(originalWnid: string, originalLemma: string, predictions: readonly PredictionLike[]): CandidateRow[] {
  const rows = new Map<string, { wnid: string; lemma: string; state: string | null; models: PredictionLike[]; humans: PredictionLike[] }>();
  rows.set(originalWnid, { wnid: originalWnid, lemma: originalLemma, state: null, models: [], humans: [] });
  for (const p of predictions) {
    let row = rows.get(p.top1Wnid);
    if (!row) {
      row = { wnid: p.top1Wnid, lemma: p.top1Lemma, state: p.state, models: [], humans: [] };
      rows.set(p.top1Wnid, row);
    }
    row.state = p.state;
    (p.kind === 'human' ? row.humans : row.models).push(p);
  }
  return [...rows.values()]
    .map((r) => ({ ...r, isOriginal: r.wnid === originalWnid }))
    .sort((a, b) =>
      Number(b.isOriginal) - Number(a.isOriginal)
      || (b.models.length + b.humans.length) - (a.models.length + a.humans.length)
      || a.lemma.localeCompare(b.lemma));
}

export interface TopAnswerLike {
  readonly lemma: string;
  readonly models: number;
  readonly humans: number;
}

/** "models said: tabby (5), tiger cat (2); humans said: tabby (1)": the answers given, by group. */
export function saidCaption(said: readonly TopAnswerLike[]): string {
  const part = (group: 'models' | 'humans'): string | null => {
    const given = said.filter((s) => s[group] > 0).sort((a, b) => b[group] - a[group]);
    return given.length === 0 ? null : `${group} said ${given.map((s) => `${s.lemma} (${s[group]})`).join(', ')}`;
  };
  return [part('models'), part('humans')].filter((p): p is string => p !== null).join('; ') || 'no predictions';
}

/** The state of a review item in words. */
export function verdictText(state: string | null): string {
  switch (state) {
    case null: return 'No entry predicted it';
    case 'correct': return 'Correct';
    case 'wrong': return 'Wrong';
    case 'unclear': return 'Unclear';
    case 'conflict': return 'Reviewers disagree';
    default: return 'Not reviewed yet';
  }
}
