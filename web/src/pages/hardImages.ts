/** "/hard-images?dataset=&by=&imageSet=": images every model (or every human) gets wrong, with counts by subset. */
import { api, isAbortError, toProblem } from '../api/client';
import type { HardImages } from '../api/types';
import { el } from '../components/dom';
import { mountProblemBox } from '../components/problemBox';
import { hrefs, imageFileUrl, type Route } from '../logic/routes';
import type { PageContext } from '../pageContext';

export function mountHardImagesPage(root: HTMLElement, route: Extract<Route, { page: 'hard-images' }>, ctx: PageContext): void {
  ctx.setTitle('Hard images');
  const other = route.by === 'models' ? 'humans' : 'models';
  const problem = mountProblemBox(root);
  const content = el('div', { testid: 'hard-images' });
  root.append(
    el('h1', { text: `Images every ${route.by === 'models' ? 'model' : 'human'} gets wrong` }),
    el('p', {}, el('a', { text: `Show the ones every ${other === 'models' ? 'model' : 'human'} gets wrong`, attrs: { href: hrefs.hardImages(route.dataset, other, route.imageSet) } })),
    content,
  );

  function group(title: string, g: HardImages['hard'], signedIn: boolean): HTMLElement {
    return el('section', {},
      el('h2', { text: `${title}: ${g.count} images (${g.entries} entries)` }),
      el('p', { text: g.bySubset.map((s) => `${s.subset}: ${s.count}`).join(' · ') }),
      el('ul', { class: 'thumbnails' }, ...g.images.map((image) => {
        const link = el('a', { attrs: { href: hrefs.image(image.imageId), title: image.originalLemma } });
        if (signedIn && image.hasFile) link.append(el('img', { attrs: { src: imageFileUrl(image.imageId), width: '96', height: '96', loading: 'lazy', alt: image.originalLemma } }));
        else link.append(`${image.originalLemma} #${image.imageId}`);
        return el('li', { testid: 'hard-image' }, link);
      })));
  }

  void (async () => {
    try {
      const query: { by: string; dataset?: string; imageSet?: string } = { by: route.by };
      if (route.dataset) query.dataset = route.dataset;
      if (route.imageSet) query.imageSet = route.imageSet;
      const hard = await api.get('/api/analysis/hard-images', { query, signal: ctx.signal });
      const signedIn = ctx.session.state.status === 'signed-in';
      const scope = el('p', { class: 'muted', testid: 'hard-images-scope', text: `${hard.dataset}, ${hard.imageSet ? `image set '${hard.imageSet}'` : 'every image'}, 'unclear' counts ${hard.unclear}.` });
      content.replaceChildren(scope, group(`Wrong for every ${route.by === 'models' ? 'model' : 'human'}`, hard.hard, signedIn),
        group('Wrong for every model and every human', hard.both, signedIn));
    } catch (error) {
      if (!isAbortError(error)) problem.update(toProblem(error));
    }
  })();
}
