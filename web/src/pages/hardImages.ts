/**
 * "/hard-images?dataset=&by=&imageSet=": images every model (or every human) gets wrong, with counts by subset; each image
 * captioned with its original label and what the models and humans said, leading to its image page.
 */
import { api, isAbortError, toProblem } from '../api/client';
import type { HardImages } from '../api/types';
import { el } from '../components/dom';
import { mountPagedImages } from '../components/pagedImages';
import { mountProblemBox } from '../components/problemBox';
import { canSeeImages, saidCaption } from '../logic/drillDown';
import { hrefs, type Route } from '../logic/routes';
import type { PageContext } from '../pageContext';
import { showMissing } from './notFound';

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

  function group(title: string, g: HardImages['hard'], testid: string, showFiles: () => boolean): HTMLElement {
    const section = el('section', {},
      el('h2', { text: `${title}: ${g.count} images (${g.entries} entries)` }),
      el('p', { text: g.bySubset.map((s) => `${s.subset}: ${s.count}`).join(' · ') }));
    if (g.images.length < g.count) section.append(el('p', { class: 'muted', text: `The first ${g.images.length} are shown.` }));
    const grid = mountPagedImages(section, { testid, pageSize: 24, label: title });
    const images = g.images.map((image) => ({ imageId: image.imageId, title: image.originalLemma, caption: saidCaption(image.said) }));
    // The session may settle after the list: whether images show depends on it.
    ctx.session.subscribe(() => grid.update({ showFiles: showFiles(), images }), ctx.signal);
    return section;
  }

  void (async () => {
    try {
      const query: { by: string; dataset?: string; imageSet?: string } = { by: route.by };
      if (route.dataset) query.dataset = route.dataset;
      if (route.imageSet) query.imageSet = route.imageSet;
      const datasets = api.get('/api/datasets', { signal: ctx.signal });
      datasets.catch(() => undefined);
      let hard: HardImages;
      try {
        hard = await api.get('/api/analysis/hard-images', { query, signal: ctx.signal });
      } catch (error) {
        if (!isAbortError(error) && toProblem(error).status === 404 && route.dataset && !(await datasets).some((d) => d.slug === route.dataset)) {
          showMissing(root, ctx, `There is no dataset '${route.dataset}'.`);
          return;
        }
        throw error;
      }
      const imagesPublic = (await datasets).find((d) => d.slug === hard.dataset)?.imagesPublic ?? false;
      const showFiles = (): boolean => canSeeImages(ctx.session.state.status === 'signed-in', imagesPublic);
      const scope = el('p', { class: 'muted', testid: 'hard-images-scope', text: `${hard.dataset}, ${hard.imageSet ? `image set '${hard.imageSet}'` : 'every image'}, 'unclear' counts ${hard.unclear}.` });
      content.replaceChildren(scope,
        group(`Wrong for every ${route.by === 'models' ? 'model' : 'human'}`, hard.hard, 'hard-images-list', showFiles),
        group('Wrong for every model and every human', hard.both, 'hard-images-both', showFiles));
    } catch (error) {
      if (!isAbortError(error)) problem.update(toProblem(error));
    }
  })();
}
