/** Any path the SPA does not know. */
import { el } from '../components/dom';
import { hrefs } from '../logic/routes';
import type { PageContext } from '../pageContext';

export function mountNotFoundPage(root: HTMLElement, path: string, ctx: PageContext): void {
  ctx.setTitle('Not found');
  root.append(
    el('h1', { text: 'Not found' }),
    el('p', {}, 'There is no page at ', el('code', { text: path }), '.'),
    el('p', {}, el('a', { attrs: { href: hrefs.browse() }, text: 'Browse the datasets' })),
  );
}
