/**
 * The review desk's address: "/review?dataset=…[&subset=…][&mode=…][&image=ID]". Every review item has its own URL (the
 * image shown), so a link or a reload opens that image and back/forward walk the images reviewed. Pure.
 */
import { parseMode, type ReviewMode } from './adjudication';

export interface ReviewQuery {
  readonly dataset: string | null;
  readonly subset: string | null;
  readonly mode: ReviewMode;
  /** The image to open; null for the next one in the queue. */
  readonly image: number | null;
}

export function parseReviewQuery(search: string): ReviewQuery {
  const params = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search);
  const raw = params.get('image');
  const image = raw !== null && /^[1-9][0-9]{0,17}$/.test(raw) ? Number(raw) : null;
  return { dataset: params.get('dataset') || null, subset: params.get('subset') || null, mode: parseMode(params.get('mode')), image };
}

/** The address of a queue, and of one image in it; pending, the default mode, is left out. */
export function reviewHref(query: ReviewQuery): string {
  const params = new URLSearchParams();
  if (query.dataset) params.set('dataset', query.dataset);
  if (query.subset) params.set('subset', query.subset);
  if (query.mode !== 'pending') params.set('mode', query.mode);
  if (query.image !== null) params.set('image', String(query.image));
  const search = params.toString();
  return search === '' ? '/review' : `/review?${search}`;
}
