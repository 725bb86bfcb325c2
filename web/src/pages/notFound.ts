/** Any path the SPA does not know, and a known path whose model, image or dataset does not exist: one "not found" page. */
import { el } from '../components/dom';
import { hrefs } from '../logic/routes';
import type { PageContext } from '../pageContext';

export function mountNotFoundPage(root: HTMLElement, path: string, ctx: PageContext): void {
  showNotFound(root, ctx, el('p', {}, 'There is no page at ', el('code', { text: path }), '.'));
}

/** Replaces a page whose subject the API does not know (a 404) with the not-found page; the detail says what is missing. */
export function showMissing(root: HTMLElement, ctx: PageContext, detail: string): void {
  showNotFound(root, ctx, el('p', { text: detail }));
}

function showNotFound(root: HTMLElement, ctx: PageContext, what: HTMLElement): void {
  ctx.setTitle('Not found');
  root.replaceChildren(
    el('div', { class: 'not-found', testid: 'not-found' },
      el('h1', { text: 'Not found' }),
      what,
      el('ul', {},
        el('li', {}, el('a', { attrs: { href: hrefs.leaderboard() }, text: 'The leaderboard' })),
        el('li', {}, el('a', { attrs: { href: hrefs.browse() }, text: 'Browse the datasets' })))),
  );
}
