/**
 * Client-side routes: which page a path shows, and the hrefs that lead there.
 * Pure: no DOM, no History API (see router.ts for those).
 */
import { isFitSpace, type FitSpace } from './shiftPlot';

export type Route =
  | { page: 'leaderboard' }
  | { page: 'review' }
  | { page: 'browse' }
  | { page: 'dataset'; dataset: string; subset: string | null; q: string }
  | { page: 'class'; dataset: string; wnid: string }
  | { page: 'image'; id: number }
  | { page: 'submit' }
  | { page: 'imports' }
  | { page: 'labeling' }
  | { page: 'guide'; under: string | null }
  | { page: 'labeling-task'; id: number }
  | { page: 'model'; slug: string; dataset: string | null }
  | { page: 'hard-images'; dataset: string | null; by: 'models' | 'humans'; imageSet: string | null }
  | { page: 'compare'; dataset: string | null; a: string | null; b: string | null; subset: string | null; imageSet: string | null; unclear: 'wrong' | 'correct' }
  | { page: 'paper'; dataset: string | null; imageSet: string | null; fit: FitSpace; fitOn: FitGroup }
  | { page: 'dataset-statistics'; dataset: string; imageSet: string | null }
  | { page: 'sign-in'; next: string | null }
  | { page: 'account' }
  | { page: 'not-found'; path: string };

export type PageName = Route['page'];

/** The entries a shift fit is made on. */
export type FitGroup = 'model' | 'non-human';

/** The top-level sections of the navigation header. */
export type NavSection = 'leaderboard' | 'review' | 'labeling' | 'guide' | 'browse' | 'submit' | 'imports' | 'sign-in';

/**
 * The route of a path such as "/browse/ilsvrc2012/classes/n01440764" or "/browse/x?subset=dogs&q=ret".
 * Segments are percent-decoded; empty segments (a trailing or doubled slash) are ignored.
 */
export function matchRoute(location: string): Route {
  const { pathname, params } = splitLocation(location);
  const segments = decodeSegments(pathname);
  if (segments === null) return { page: 'not-found', path: pathname };

  const [first, second, third, fourth, ...rest] = segments;
  if (rest.length > 0) return { page: 'not-found', path: pathname };

  switch (first) {
    case undefined:
    case 'leaderboard':
      return second === undefined ? { page: 'leaderboard' } : notFound(pathname);
    case 'review':
      return second === undefined ? { page: 'review' } : notFound(pathname);
    case 'sign-in':
      return second === undefined ? { page: 'sign-in', next: safeNext(params.get('next')) } : notFound(pathname);
    case 'account':
      return second === undefined ? { page: 'account' } : notFound(pathname);
    case 'browse':
      if (second === undefined) return { page: 'browse' };
      if (third === undefined) {
        const subset = params.get('subset');
        return { page: 'dataset', dataset: second, subset: subset ? subset : null, q: params.get('q') ?? '' };
      }
      if (third === 'classes' && fourth !== undefined) return { page: 'class', dataset: second, wnid: fourth };
      return notFound(pathname);
    case 'submit':
      return second === undefined ? { page: 'submit' } : notFound(pathname);
    case 'imports':
      return second === undefined ? { page: 'imports' } : notFound(pathname);
    case 'guide':
      return second === undefined ? { page: 'guide', under: params.get('under') || null } : notFound(pathname);
    case 'labeling': {
      if (second === undefined) return { page: 'labeling' };
      if (third !== undefined || !/^[1-9][0-9]{0,15}$/.test(second)) return notFound(pathname);
      const id = Number(second);
      return Number.isSafeInteger(id) ? { page: 'labeling-task', id } : notFound(pathname);
    }
    case 'models':
      return second !== undefined && third === undefined
        ? { page: 'model', slug: second, dataset: params.get('dataset') || null }
        : notFound(pathname);
    case 'hard-images':
      return second === undefined
        ? {
            page: 'hard-images',
            dataset: params.get('dataset') || null,
            by: params.get('by') === 'humans' ? 'humans' : 'models',
            imageSet: params.get('imageSet') || null,
          }
        : notFound(pathname);
    case 'compare':
      return second === undefined
        ? {
            page: 'compare',
            dataset: params.get('dataset') || null,
            a: params.get('a') || null,
            b: params.get('b') || null,
            subset: params.get('subset') || null,
            imageSet: params.get('imageSet') || null,
            unclear: params.get('unclear') === 'correct' ? 'correct' : 'wrong',
          }
        : notFound(pathname);
    case 'paper': {
      if (second !== undefined) return notFound(pathname);
      const fit = params.get('fit');
      return {
        page: 'paper',
        dataset: params.get('dataset') || null,
        imageSet: params.get('imageSet') || null,
        fit: isFitSpace(fit) ? fit : 'logit',
        fitOn: params.get('fitOn') === 'non-human' ? 'non-human' : 'model',
      };
    }
    case 'datasets':
      return second !== undefined && third === 'statistics' && fourth === undefined
        ? { page: 'dataset-statistics', dataset: second, imageSet: params.get('imageSet') || null }
        : notFound(pathname);
    case 'images': {
      if (second === undefined || third !== undefined || !/^[1-9][0-9]{0,15}$/.test(second)) return notFound(pathname);
      const id = Number(second);
      return Number.isSafeInteger(id) ? { page: 'image', id } : notFound(pathname);
    }
    default:
      return notFound(pathname);
  }
}

/** The navigation section a route belongs to, for marking the current link. */
export function navSection(route: Route): NavSection | null {
  switch (route.page) {
    case 'leaderboard':
    case 'review':
    case 'sign-in':
      return route.page;
    case 'model':
    case 'hard-images':
    case 'compare':
    case 'paper':
      return 'leaderboard';
    case 'dataset-statistics':
      return 'browse';
    case 'browse':
    case 'dataset':
    case 'class':
    case 'image':
      return 'browse';
    case 'submit':
      return 'submit';
    case 'imports':
      return 'imports';
    case 'account':
      return null;
    case 'labeling':
    case 'labeling-task':
      return 'labeling';
    case 'guide':
      return 'guide';
    case 'not-found':
      return null;
  }
}

/** Whether a same-origin path belongs to the SPA (links to it are handled without a page load). */
export function isAppPath(pathname: string): boolean {
  return !/^\/(api|swagger)(\/|$)/i.test(pathname);
}

/** A "next" location is followed only when it is a local path (not "//host" or "https://…"). */
export function safeNext(next: string | null): string | null {
  if (next === null || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return null;
  return isAppPath(splitLocation(next).pathname) ? next : null;
}

const enc = encodeURIComponent;

export const hrefs = {
  leaderboard: (): string => '/leaderboard',
  review: (): string => '/review',
  /** A dataset's review queue; pending, the default mode, is left out of the address. */
  reviewQueue(dataset: string, options: { subset?: string | null; mode?: string } = {}): string {
    const params = new URLSearchParams({ dataset });
    if (options.subset) params.set('subset', options.subset);
    if (options.mode && options.mode !== 'pending') params.set('mode', options.mode);
    return `/review?${params.toString()}`;
  },
  browse: (): string => '/browse',
  dataset(slug: string, options: { subset?: string | null; q?: string } = {}): string {
    const params = new URLSearchParams();
    if (options.subset && options.subset !== 'all') params.set('subset', options.subset);
    if (options.q && options.q.trim() !== '') params.set('q', options.q);
    const query = params.toString();
    return `/browse/${enc(slug)}` + (query ? `?${query}` : '');
  },
  class: (slug: string, wnid: string): string => `/browse/${enc(slug)}/classes/${enc(wnid)}`,
  image: (id: number): string => `/images/${id}`,
  submit: (): string => '/submit',
  imports: (): string => '/imports',
  account: (): string => '/account',
  labeling: (): string => '/labeling',
  labelingTask: (id: number): string => `/labeling/${id}`,
  guide: (under?: string | null): string => (under ? `/guide?under=${enc(under)}` : '/guide'),
  model: (slug: string, dataset?: string | null): string =>
    `/models/${enc(slug)}` + (dataset ? `?dataset=${enc(dataset)}` : ''),
  hardImages: (dataset?: string | null, by: 'models' | 'humans' = 'models', imageSet?: string | null): string =>
    `/hard-images?by=${by}` + (dataset ? `&dataset=${enc(dataset)}` : '') + (imageSet ? `&imageSet=${enc(imageSet)}` : ''),
  /** Two entries on the same images; options left out (or at their defaults) stay out of the address. */
  compare(
    dataset: string,
    a: string | null,
    b: string | null,
    options: { subset?: string | null; imageSet?: string | null; unclear?: string | null } = {},
  ): string {
    const params = new URLSearchParams({ dataset });
    if (a) params.set('a', a);
    if (b) params.set('b', b);
    if (options.subset && options.subset !== 'all') params.set('subset', options.subset);
    if (options.imageSet) params.set('imageSet', options.imageSet);
    if (options.unclear === 'correct') params.set('unclear', 'correct');
    return `/compare?${params.toString()}`;
  },
  paper(dataset?: string | null, options: { imageSet?: string | null; fit?: FitSpace; fitOn?: FitGroup } = {}): string {
    const params = new URLSearchParams();
    if (dataset) params.set('dataset', dataset);
    if (options.imageSet) params.set('imageSet', options.imageSet);
    if (options.fit && options.fit !== 'logit') params.set('fit', options.fit);
    if (options.fitOn && options.fitOn !== 'model') params.set('fitOn', options.fitOn);
    const query = params.toString();
    return '/paper' + (query ? `?${query}` : '');
  },
  datasetStatistics: (slug: string, imageSet?: string | null): string =>
    `/datasets/${enc(slug)}/statistics` + (imageSet ? `?imageSet=${enc(imageSet)}` : ''),
  signIn(next?: string | null): string {
    const safe = safeNext(next ?? null);
    return safe && safe !== '/sign-in' ? `/sign-in?next=${enc(safe)}` : '/sign-in';
  },
};

/** The URL of an image's bytes (served by the API, not the SPA). */
export const imageFileUrl = (id: number): string => `/api/images/${id}/file`;

function notFound(path: string): Route {
  return { page: 'not-found', path };
}

function splitLocation(location: string): { pathname: string; params: URLSearchParams } {
  const hash = location.indexOf('#');
  const withoutHash = hash >= 0 ? location.slice(0, hash) : location;
  const question = withoutHash.indexOf('?');
  return question >= 0
    ? { pathname: withoutHash.slice(0, question), params: new URLSearchParams(withoutHash.slice(question + 1)) }
    : { pathname: withoutHash, params: new URLSearchParams() };
}

function decodeSegments(pathname: string): string[] | null {
  try {
    return pathname.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
  } catch {
    return null; // malformed percent-encoding
  }
}
