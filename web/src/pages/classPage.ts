/**
 * "/browse/{dataset}/classes/{wnid}": a class of a dataset: lemmas, gloss, hypernym paths,
 * and its images as thumbnails, a page at a time.
 */
import { api, isAbortError, toProblem } from '../api/client';
import type { Dataset, ImageRecord, SynsetDetail } from '../api/types';
import { mountBreadcrumbs } from '../components/breadcrumbs';
import { childController, el, setHidden, setHref, setText } from '../components/dom';
import { mountHypernymPaths } from '../components/hypernymPaths';
import { mountKeyedList } from '../components/keyedList';
import { mountProblemBox } from '../components/problemBox';
import { mountThumbnailGrid } from '../components/thumbnailGrid';
import { countOf } from '../logic/format';
import type { Problem } from '../logic/problem';
import { hrefs } from '../logic/routes';
import type { SessionState } from '../session';
import type { PageContext } from '../pageContext';

const PageSize = 60;

interface ClassPageState {
  dataset: Dataset | null;
  synset: SynsetDetail | null;
  problem: Problem | null;
  images: ImageRecord[];
  nextCursor: string | null;
  imagesLoaded: boolean;
  loadingImages: boolean;
  imagesProblem: Problem | null;
  imageFailed: boolean;
  session: SessionState;
}

export function mountClassPage(root: HTMLElement, route: { dataset: string; wnid: string }, ctx: PageContext): void {
  const { dataset: slug, wnid } = route;
  const state: ClassPageState = {
    dataset: null,
    synset: null,
    problem: null,
    images: [],
    nextCursor: null,
    imagesLoaded: false,
    loadingImages: false,
    imagesProblem: null,
    imageFailed: false,
    session: ctx.session.state,
  };

  const breadcrumbs = mountBreadcrumbs(root);
  const heading = el('h1');
  const wnidText = el('code', { class: 'wnid', testid: 'class-wnid', text: wnid });
  const lemmaList = el('ul', { class: 'lemmas', testid: 'lemmas' });
  const gloss = el('p', { class: 'gloss', testid: 'gloss' });
  root.append(heading, el('p', { class: 'subtitle' }, wnidText), lemmaList, gloss);
  const problem = mountProblemBox(root);

  const pathsSection = el('section', { class: 'section' }, el('h2', { text: 'Hypernym paths' }));
  root.append(pathsSection);
  const hypernymPaths = mountHypernymPaths(pathsSection);

  const imagesHeading = el('h2', { text: 'Images' });
  const imagesSection = el('section', { class: 'section' }, imagesHeading);
  root.append(imagesSection);
  const signInLink = el('a', { text: 'Sign in' });
  const notice = el('p', { class: 'notice' }, 'Images are shown to signed-in users. ', signInLink, ' to see them.');
  imagesSection.append(notice);
  const thumbnails = mountThumbnailGrid(imagesSection, {
    onImageError() {
      if (!state.imageFailed) {
        state.imageFailed = true;
        update();
      }
    },
  });
  const imagesStatus = el('p', { class: 'status', attrs: { 'aria-live': 'polite' } });
  const more = el('button', { class: 'button', testid: 'more-images', attrs: { type: 'button' }, text: 'More' });
  imagesSection.append(imagesStatus, more);
  const imagesProblem = mountProblemBox(imagesSection);

  more.addEventListener('click', () => loadImages());

  const lemmas = mountKeyedList<string>(
    lemmaList,
    (l) => l,
    () => {
      const item = el('li');
      return { el: item, update: (l) => setText(item, l) };
    },
  );

  function update(): void {
    const datasetName = state.dataset?.name ?? slug;
    const lemma = state.synset?.lemmas[0] ?? wnid;
    ctx.setTitle(lemma, datasetName);
    breadcrumbs.update([
      { text: 'Browse', href: hrefs.browse() },
      { text: datasetName, href: hrefs.dataset(slug) },
      { text: lemma, href: null },
    ]);
    setText(heading, lemma);
    lemmas.update(state.synset?.lemmas ?? []);
    setText(gloss, state.synset?.gloss ?? '');
    problem.update(state.problem);
    hypernymPaths.update(state.synset?.paths ?? []);
    setHidden(pathsSection, state.synset === null);

    thumbnails.update(state.images);
    setHidden(notice, !(state.imageFailed && state.session.status !== 'signed-in'));
    setHref(signInLink, hrefs.signIn(ctx.location()));
    setText(
      imagesStatus,
      state.loadingImages
        ? 'Loading images…'
        : !state.imagesLoaded
          ? ''
          : state.images.length === 0
            ? 'There are no images of this class.'
            : `${countOf(state.images.length, 'image', 'images')} shown${state.nextCursor ? '' : ', all of them'}.`,
    );
    setHidden(more, state.nextCursor === null);
    more.disabled = state.loadingImages;
    imagesProblem.update(state.imagesProblem);
  }

  function loadImages(): void {
    if (state.loadingImages) return;
    const request = childController(ctx.signal);
    state.loadingImages = true;
    state.imagesProblem = null;
    update();
    const cursor = state.nextCursor;
    const query = cursor === null ? { dataset: slug, wnid, limit: PageSize } : { dataset: slug, wnid, limit: PageSize, cursor };
    api
      .get('/api/images', { query, signal: request.signal })
      .then((page) => {
        state.images = [...state.images, ...page.items];
        state.nextCursor = page.nextCursor ?? null;
        state.imagesLoaded = true;
      })
      .catch((error: unknown) => {
        if (!isAbortError(error)) state.imagesProblem = toProblem(error);
      })
      .finally(() => {
        if (request.signal.aborted) return;
        state.loadingImages = false;
        update();
      });
  }

  function fail(error: unknown): void {
    if (isAbortError(error) || ctx.signal.aborted) return;
    state.problem ??= toProblem(error);
    update();
  }

  ctx.session.subscribe((session) => {
    state.session = session;
    update();
  }, ctx.signal);

  api
    .get('/api/datasets/{slug}', { path: { slug }, signal: ctx.signal })
    .then((dataset) => {
      state.dataset = dataset;
      update();
    })
    .catch(fail);
  api
    .get('/api/synsets/{wnid}', { path: { wnid }, query: { dataset: slug }, signal: ctx.signal })
    .then((synset) => {
      state.synset = synset;
      update();
    })
    .catch(fail);
  loadImages();
}
