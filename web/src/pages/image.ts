/** "/images/{id}": one image, large, with its file name, dataset and original label. */
import { api, isAbortError, toProblem } from '../api/client';
import type { ImageRecord } from '../api/types';
import { mountBreadcrumbs } from '../components/breadcrumbs';
import { el, setAttr, setHidden, setHref, setText } from '../components/dom';
import { mountProblemBox } from '../components/problemBox';
import { formatBytes } from '../logic/format';
import type { Problem } from '../logic/problem';
import { hrefs, imageFileUrl } from '../logic/routes';
import type { SessionState } from '../session';
import type { PageContext } from '../pageContext';

interface ImagePageState {
  image: ImageRecord | null;
  problem: Problem | null;
  imageFailed: boolean;
  session: SessionState;
}

export function mountImagePage(root: HTMLElement, route: { id: number }, ctx: PageContext): void {
  const state: ImagePageState = { image: null, problem: null, imageFailed: false, session: ctx.session.state };

  const breadcrumbs = mountBreadcrumbs(root);
  const heading = el('h1', { testid: 'image-file-name' });
  root.append(heading);
  const problem = mountProblemBox(root);

  const picture = el('img', { class: 'image-large', testid: 'image-large', attrs: { decoding: 'async' } });
  const missing = el('p', { class: 'image-missing' });
  const figure = el('figure', { class: 'image-figure' }, picture, missing);

  const datasetLink = el('a', { testid: 'image-dataset' });
  const labelLemma = el('span', { class: 'label-lemma' });
  const wnidCode = el('code');
  const labelWnid = el('a', { testid: 'image-label' }, wnidCode);
  const fileName = el('code', { testid: 'image-name' });
  const hashCode = el('code');
  const size = el('dd');
  const sizeTerm = el('dt', { text: 'Size' });
  const hash = el('dd', {}, hashCode);
  const hashTerm = el('dt', { text: 'SHA-256' });
  const facts = el(
    'dl',
    { class: 'facts' },
    el('dt', { text: 'File' }),
    el('dd', {}, fileName),
    el('dt', { text: 'Dataset' }),
    el('dd', {}, datasetLink),
    el('dt', { text: 'Original label' }),
    el('dd', {}, labelLemma, ' ', labelWnid),
    sizeTerm,
    size,
    hashTerm,
    hash,
  );
  const details = el('div', { class: 'image-details' }, figure, facts);
  root.append(details);

  picture.addEventListener('error', () => {
    state.imageFailed = true;
    update();
  });

  function update(): void {
    const image = state.image;
    problem.update(state.problem);
    setHidden(details, image === null);
    if (image === null) {
      ctx.setTitle(`Image ${route.id}`);
      breadcrumbs.update([{ text: 'Browse', href: hrefs.browse() }, { text: `Image ${route.id}`, href: null }]);
      setText(heading, state.problem ? `Image ${route.id}` : 'Loading…');
      return;
    }

    ctx.setTitle(image.fileName, image.originalLemma);
    breadcrumbs.update([
      { text: 'Browse', href: hrefs.browse() },
      { text: image.dataset, href: hrefs.dataset(image.dataset) },
      { text: image.originalLemma, href: hrefs.class(image.dataset, image.originalWnid) },
      { text: image.fileName, href: null },
    ]);
    setText(heading, image.fileName);

    const showPicture = image.hasFile && !state.imageFailed;
    setHidden(picture, !showPicture);
    if (showPicture) {
      setAttr(picture, 'alt', image.fileName);
      setAttr(picture, 'src', imageFileUrl(image.id));
      if (image.width && image.height) {
        setAttr(picture, 'width', String(image.width));
        setAttr(picture, 'height', String(image.height));
      }
    }
    setHidden(missing, showPicture);
    setText(
      missing,
      !image.hasFile
        ? 'The bytes of this image have not been uploaded.'
        : state.session.status === 'signed-in'
          ? 'The image could not be loaded.'
          : 'Images are shown to signed-in users: sign in to see this one.',
    );

    setText(fileName, image.fileName);
    setHref(datasetLink, hrefs.dataset(image.dataset));
    setText(datasetLink, image.dataset);
    setText(labelLemma, image.originalLemma);
    setHref(labelWnid, hrefs.class(image.dataset, image.originalWnid));
    setText(wnidCode, image.originalWnid);

    const sizeParts = [
      image.width && image.height ? `${image.width} × ${image.height}` : null,
      image.mediaType ?? null,
      image.byteSize ? formatBytes(image.byteSize) : null,
    ].filter((p): p is string => p !== null);
    setText(size, sizeParts.join(' · '));
    setHidden(size, sizeParts.length === 0);
    setHidden(sizeTerm, sizeParts.length === 0);
    setText(hashCode, image.sha256 ?? '');
    setHidden(hash, !image.sha256);
    setHidden(hashTerm, !image.sha256);
  }

  ctx.session.subscribe((session) => {
    state.session = session;
    update();
  }, ctx.signal);

  api
    .get('/api/images/{id}', { path: { id: route.id }, signal: ctx.signal })
    .then((image) => {
      state.image = image;
    })
    .catch((error: unknown) => {
      if (!isAbortError(error)) state.problem = toProblem(error);
    })
    .finally(() => {
      if (!ctx.signal.aborted) update();
    });
}
