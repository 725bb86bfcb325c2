/**
 * "/models/{slug}?dataset=": a model's accuracy per subset (bars), per class (sortable, searchable) and its wrong images;
 * then its prediction sets and upload history.
 */
import { api, isAbortError, toProblem } from '../api/client';
import type { ModelResults } from '../api/types';
import { el, setText } from '../components/dom';
import { mountModelUploads } from '../components/modelUploads';
import { mountProblemBox } from '../components/problemBox';
import { percent } from '../logic/leaderboard';
import { hrefs, imageFileUrl, type Route } from '../logic/routes';
import type { PageContext } from '../pageContext';

type ClassRow = ModelResults['classes'][number];
type ClassKey = 'index' | 'lemma' | 'images' | 'top1' | 'strict' | 'lenient' | 'pending';

export function mountModelPage(root: HTMLElement, route: Extract<Route, { page: 'model' }>, ctx: PageContext): void {
  ctx.setTitle(route.slug);
  const title = el('h1', { text: route.slug });
  const meta = el('p', { class: 'lead', testid: 'model-meta' });
  const bars = el('div', { class: 'bars', testid: 'subset-bars' });
  const search = el('input', { attrs: { type: 'search', placeholder: 'Search classes' }, testid: 'class-filter' });
  const head = el('tr');
  const body = el('tbody', { testid: 'class-rows' });
  const wrongTitle = el('h2', { text: 'Images it gets wrong' });
  const wrong = el('ul', { class: 'thumbnails', testid: 'wrong-images' });
  const problem = mountProblemBox(root);
  root.append(title, meta, el('h2', { text: 'Per subset (strict multi-label)' }), bars,
    el('h2', { text: 'Per class' }), search, el('table', { class: 'classes' }, el('thead', {}, head), body), wrongTitle, wrong);

  let results: ModelResults | null = null;
  let sort: ClassKey = 'strict';
  let descending = false;

  const columns: [string, ClassKey][] = [['#', 'index'], ['Class', 'lemma'], ['Images', 'images'], ['Top-1', 'top1'], ['Strict', 'strict'], ['Lenient', 'lenient'], ['Pending', 'pending']];
  head.replaceChildren(...columns.map(([label, key]) => {
    const button = el('button', { class: 'sort', text: label, attrs: { type: 'button' } });
    button.addEventListener('click', () => { descending = sort === key ? !descending : false; sort = key; renderClasses(); });
    return el('th', {}, button);
  }));
  search.addEventListener('input', renderClasses);

  function renderClasses(): void {
    if (!results) return;
    const needle = search.value.trim().toLowerCase();
    const value = (c: ClassRow): number | string => (sort === 'lemma' ? c.lemma.toLowerCase() : (c[sort] ?? -1));
    const rows = results.classes
      .filter((c) => needle === '' || c.lemma.toLowerCase().includes(needle) || c.wnid.includes(needle))
      .sort((a, b) => { const x = value(a), y = value(b); const o = x < y ? -1 : x > y ? 1 : a.index - b.index; return descending ? -o : o; });
    body.replaceChildren(...rows.map((c) => el('tr', {},
      el('td', { text: String(c.index) }), el('td', {}, el('a', { text: c.lemma, attrs: { href: hrefs.class(results!.dataset, c.wnid) } })),
      el('td', { text: String(c.images) }), el('td', { text: percent(c.top1) }), el('td', { text: percent(c.strict) }),
      el('td', { text: percent(c.lenient) }), el('td', { text: String(c.pending) }))));
  }

  void (async () => {
    try {
      results = await api.get('/api/models/{slug}/results', {
        path: { slug: route.slug }, query: route.dataset ? { dataset: route.dataset } : {}, signal: ctx.signal,
      });
      setText(title, results.model.displayName);
      ctx.setTitle(results.model.displayName);
      setText(meta, `${results.model.kind} · ${results.dataset} · label version ${results.labelVersion}`);
      bars.replaceChildren(...results.subsets.map((s) => {
        const v = s.strict.value ?? 0;
        return el('div', { class: 'bar-row', attrs: { 'data-subset': s.subset } },
          el('span', { class: 'bar-label', text: s.subset }),
          el('span', { class: 'bar', attrs: { style: `display:inline-block;height:12px;background:#2c7be5;width:${Math.round(v * 300)}px` } }),
          el('span', { text: ` ${percent(s.strict.value)} %` + (s.strict.provisional ? ` (${s.strict.pending} pending)` : '') }));
      }));
      renderClasses();
      const signedIn = ctx.session.state.status === 'signed-in';
      setText(wrongTitle, `Images it gets wrong (${results.wrongCount})`);
      wrong.replaceChildren(...results.wrongImages.map((w) => {
        const caption = `${w.originalLemma} → ${w.predictedLemma} (${w.state})`;
        const link = el('a', { attrs: { href: hrefs.image(w.imageId), title: caption } });
        if (signedIn) link.append(el('img', { testid: 'wrong-thumbnail', attrs: { src: imageFileUrl(w.imageId), width: '96', height: '96', loading: 'lazy', alt: caption } }));
        else link.append(caption);
        return el('li', {}, link);
      }));
    } catch (error) {
      if (!isAbortError(error)) problem.update(toProblem(error));
    }
  })();
  const uploads = el('section');
  root.append(uploads);
  mountModelUploads(uploads, route, ctx.signal);
}
