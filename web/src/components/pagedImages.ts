/**
 * A paged grid of captioned image thumbnails, each linking to its image page; for readers who may not see the files,
 * a paged list of the captions instead.
 */
import { el, setHidden, setText } from './dom';
import { mountKeyedList } from './keyedList';
import { pageOf } from '../logic/drillDown';
import { hrefs, imageFileUrl } from '../logic/routes';

export interface CaptionedImage {
  readonly imageId: number;
  /** The first line: what the image is (its original label). */
  readonly title: string;
  /** What was said about it. */
  readonly caption: string;
}

export interface PagedImagesState {
  readonly images: readonly CaptionedImage[];
  readonly showFiles: boolean;
}

export function mountPagedImages(parent: HTMLElement, options: { testid: string; pageSize: number; label: string }): { update(state: PagedImagesState): void } {
  const grid = el('ul', { class: 'captioned-thumbnails', testid: options.testid });
  const previous = el('button', { class: 'link-button', testid: `${options.testid}-previous`, text: '← Previous', attrs: { type: 'button' } });
  const next = el('button', { class: 'link-button', testid: `${options.testid}-next`, text: 'Next →', attrs: { type: 'button' } });
  const position = el('span', { testid: `${options.testid}-position`, attrs: { 'aria-live': 'polite' } });
  const pager = el('nav', { class: 'pager', attrs: { 'aria-label': `${options.label}: pages` } }, previous, position, next);
  parent.append(grid, pager);

  let page = 1;
  let last: PagedImagesState | null = null;

  const items = mountKeyedList<CaptionedImage & { showFiles: boolean }>(
    grid,
    (image) => `${image.imageId}:${image.showFiles}`,
    (image) => {
      const link = el('a', { attrs: { href: hrefs.image(image.imageId) } });
      const title = el('strong');
      const caption = el('span', { class: 'muted' });
      const figcaption = el('figcaption', {}, title, caption);
      if (image.showFiles) {
        link.append(el('img', { testid: `${options.testid}-thumbnail`, attrs: { src: imageFileUrl(image.imageId), width: '128', height: '128', loading: 'lazy', decoding: 'async', alt: '' } }));
      }
      link.append(figcaption);
      const item = el('li', { testid: `${options.testid}-item`, attrs: { 'data-image-id': String(image.imageId) } }, el('figure', {}, link));
      item.classList.toggle('names-only', !image.showFiles);
      return {
        el: item,
        update(i) {
          setText(title, i.title);
          setText(caption, i.caption);
        },
      };
    },
  );

  function render(): void {
    if (!last) return;
    const slice = pageOf(last.images, page, options.pageSize);
    page = slice.page;
    items.update(slice.items.map((i) => ({ ...i, showFiles: last!.showFiles })));
    setHidden(pager, slice.pages <= 1);
    setText(position, `${slice.first}–${slice.last} of ${last.images.length}`);
    previous.disabled = slice.page <= 1;
    next.disabled = slice.page >= slice.pages;
  }

  previous.addEventListener('click', () => { page -= 1; render(); });
  next.addEventListener('click', () => { page += 1; render(); });

  return {
    update(state) {
      if (last && last.images !== state.images) page = 1;
      last = state;
      render();
    },
  };
}
