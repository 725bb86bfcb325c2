/**
 * A grid of image thumbnails, each linking to its image page. Images without bytes, and images
 * the server refuses (not signed in), show a tile with the file name instead.
 */
import { el, setAttr, setHref, setText } from './dom';
import { mountKeyedList } from './keyedList';
import type { ImageRecord } from '../api/types';
import { hrefs, imageFileUrl } from '../logic/routes';

export interface ThumbnailGridOptions {
  /** Called when an image fails to load (typically 401: images are for signed-in users). */
  onImageError?(image: ImageRecord): void;
}

export function mountThumbnailGrid(parent: HTMLElement, options: ThumbnailGridOptions = {}): { update(images: readonly ImageRecord[]): void } {
  const grid = el('ul', { class: 'thumbnails', testid: 'thumbnails' });
  parent.append(grid);

  const items = mountKeyedList<ImageRecord>(
    grid,
    (image) => String(image.id),
    () => {
      const img = el('img', {
        testid: 'thumbnail',
        attrs: { loading: 'lazy', decoding: 'async', width: '128', height: '128' },
      });
      const placeholder = el('span', { class: 'thumb-placeholder' });
      const link = el('a', { class: 'thumb' });
      const item = el('li', {}, link);
      let current: ImageRecord | null = null;
      let failed = false;

      img.addEventListener('error', () => {
        failed = true;
        if (current) {
          render(current);
          options.onImageError?.(current);
        }
      });

      function render(image: ImageRecord): void {
        current = image;
        item.dataset['imageId'] = String(image.id);
        setHref(link, hrefs.image(image.id));
        setAttr(link, 'title', `${image.fileName} (${image.originalLemma}, ${image.originalWnid})`);
        const showImage = image.hasFile && !failed;
        if (showImage) {
          setAttr(img, 'alt', image.fileName);
          setAttr(img, 'src', imageFileUrl(image.id));
        } else {
          setText(placeholder, image.fileName);
          placeholder.classList.toggle('thumb-unavailable', image.hasFile);
        }
        const part = showImage ? img : placeholder;
        if (link.firstChild !== part || link.childNodes.length !== 1) link.replaceChildren(part);
      }

      return { el: item, update: render };
    },
  );

  return { update: (images) => items.update(images) };
}
