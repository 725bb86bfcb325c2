/**
 * "/images/{id}": one image, large, with its file name, dataset and original label; then its candidate labels with their
 * verdicts and who (which models and humans) predicted each.
 */
import { api, isAbortError, toProblem } from '../api/client';
import type { ImagePredictions, ImageRecord } from '../api/types';
import { mountBreadcrumbs } from '../components/breadcrumbs';
import { el, setAttr, setHidden, setHref, setText } from '../components/dom';
import { mountProblemBox } from '../components/problemBox';
import { candidateRows, canSeeImages, verdictText, type CandidateRow } from '../logic/drillDown';
import { formatBytes } from '../logic/format';
import type { Problem } from '../logic/problem';
import { hrefs, imageFileUrl } from '../logic/routes';
import type { SessionState } from '../session';
import type { PageContext } from '../pageContext';
import { mountKeyedList } from '../components/keyedList';
import { showMissing } from './notFound';

interface ImagePageState {
  image: ImageRecord | null;
  predictions: ImagePredictions | null;
  imagesPublic: boolean;
  problem: Problem | null;
  imageFailed: boolean;
  session: SessionState;
}

export function mountImagePage(root: HTMLElement, route: { id: number }, ctx: PageContext): void {
  const state: ImagePageState = { image: null, predictions: null, imagesPublic: false, problem: null, imageFailed: false, session: ctx.session.state };

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

  const candidatesNote = el('p', { class: 'muted', testid: 'candidates-note' });
  const candidateBody = el('tbody', { testid: 'candidate-rows' });
  const candidates = el('section', { class: 'candidates', testid: 'candidates' },
    el('h2', { text: 'Candidate labels' }),
    candidatesNote,
    el('div', { class: 'table-scroll' }, el('table', {},
      el('thead', {}, el('tr', {},
        el('th', { text: 'Label', attrs: { scope: 'col' } }),
        el('th', { text: 'Verdict', attrs: { scope: 'col' } }),
        el('th', { text: 'Models that predicted it (top-1)', attrs: { scope: 'col' } }),
        el('th', { text: 'Humans', attrs: { scope: 'col' } }))),
      candidateBody)));
  root.append(candidates);
  const rows = mountKeyedList<CandidateRow>(candidateBody, (r) => r.wnid, () => {
    const lemma = el('a');
    const badge = el('span', { class: 'original-badge', text: ' (original label)' });
    const verdict = el('td', { class: 'verdict' });
    const models = el('td');
    const humans = el('td');
    const row = el('tr', { testid: 'candidate-row' }, el('th', { attrs: { scope: 'row' } }, lemma, badge), verdict, models, humans);
    const names = (cell: HTMLElement, entries: CandidateRow['models']): void => {
      cell.replaceChildren(...entries.flatMap((e, i) => [
        ...(i > 0 ? [', '] : []),
        el('a', { text: e.displayName, attrs: { href: hrefs.model(e.model, state.image?.dataset ?? null) } }),
      ]));
      if (entries.length === 0) cell.append('—');
    };
    return {
      el: row,
      update(r) {
        row.dataset['wnid'] = r.wnid;
        setText(lemma, r.lemma);
        setHref(lemma, hrefs.class(state.image?.dataset ?? '', r.wnid));
        setHidden(badge, !r.isOriginal);
        setText(verdict, verdictText(r.state));
        verdict.dataset['state'] = r.state ?? 'unknown';
        names(models, r.models);
        names(humans, r.humans);
      },
    };
  });

  picture.addEventListener('error', () => {
    state.imageFailed = true;
    update();
  });

  let missingShown = false;
  function update(): void {
    if (missingShown) return;
    const image = state.image;
    problem.update(state.problem);
    setHidden(details, image === null);
    setHidden(candidates, image === null || state.predictions === null);
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
        : canSeeImages(state.session.status === 'signed-in', state.imagesPublic)
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

    const p = state.predictions;
    if (p) {
      rows.update(candidateRows(p.originalWnid, p.originalLemma, p.predictions));
      setText(candidatesNote, p.problematic
        ? 'Reviewers flagged this image as problematic: it is left out of the scores.'
        : `${p.predictions.length} entries predicted this image; verdicts at label version ${p.labelVersion}.`);
    }
  }

  ctx.session.subscribe((session) => {
    state.session = session;
    update();
  }, ctx.signal);

  void (async () => {
    try {
      const predictions = api.get('/api/images/{id}/predictions', { path: { id: route.id }, signal: ctx.signal });
      const datasets = api.get('/api/datasets', { signal: ctx.signal });
      predictions.catch(() => undefined);
      datasets.catch(() => undefined);
      try {
        state.image = await api.get('/api/images/{id}', { path: { id: route.id }, signal: ctx.signal });
      } catch (error) {
        if (!isAbortError(error) && toProblem(error).status === 404) {
          missingShown = true;
          showMissing(root, ctx, `There is no image ${route.id}.`);
          return;
        }
        throw error;
      }
      update();
      state.imagesPublic = (await datasets).find((d) => d.slug === state.image?.dataset)?.imagesPublic ?? false;
      state.predictions = await predictions;
    } catch (error) {
      if (!isAbortError(error)) state.problem = toProblem(error);
    }
    if (!ctx.signal.aborted) update();
  })();
}
