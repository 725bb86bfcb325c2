/**
 * History API routing: same-origin links to SPA paths are handled without a page load,
 * back/forward re-render, and pages may rewrite the query of the current entry quietly.
 */
import { isAppPath, matchRoute, type Route } from './logic/routes';

export interface NavigateOptions {
  /** Replace the current history entry instead of adding one. */
  readonly replace?: boolean;
}

export interface Router {
  /** Renders the current location and starts listening to links and history. */
  start(): void;
  navigate(location: string, options?: NavigateOptions): void;
  /** Changes the address (e.g. a search query) without rendering again. */
  replaceQuietly(location: string): void;
  /** Adds a history entry (e.g. a changed control) without rendering again; back/forward then render that entry. */
  pushQuietly(location: string): void;
  readonly location: string;
}

export type RouteHandler = (route: Route, location: string, cause: 'start' | 'navigate' | 'history') => void;

export function createRouter(onRoute: RouteHandler): Router {
  const current = (): string => window.location.pathname + window.location.search + window.location.hash;

  function render(cause: 'start' | 'navigate' | 'history'): void {
    onRoute(matchRoute(current()), current(), cause);
  }

  function navigate(location: string, options: NavigateOptions = {}): void {
    const url = new URL(location, window.location.href);
    if (url.origin !== window.location.origin || !isAppPath(url.pathname)) {
      window.location.assign(url.href);
      return;
    }
    const next = url.pathname + url.search + url.hash;
    if (options.replace || next === current()) window.history.replaceState(null, '', next);
    else window.history.pushState(null, '', next);
    render('navigate');
    if (url.hash === '') window.scrollTo(0, 0);
  }

  function onClick(event: MouseEvent): void {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const target = event.target instanceof Element ? event.target : null;
    const anchor = target?.closest('a');
    if (!anchor || !anchor.hasAttribute('href') || anchor.hasAttribute('download')) return;
    if (anchor.target !== '' && anchor.target !== '_self') return;
    const url = new URL(anchor.href, window.location.href);
    if (url.origin !== window.location.origin || !isAppPath(url.pathname)) return;
    event.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  }

  return {
    start() {
      document.addEventListener('click', onClick);
      window.addEventListener('popstate', () => render('history'));
      render('start');
    },
    navigate,
    replaceQuietly(location) {
      if (location !== current()) window.history.replaceState(null, '', location);
    },
    pushQuietly(location) {
      if (location !== current()) window.history.pushState(null, '', location);
    },
    get location() {
      return current();
    },
  };
}
