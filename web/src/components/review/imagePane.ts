/** The image under review, its original label, and (on request) its file name. */
import { el, setAttr, setText } from '../dom';
import { imageFileUrl } from '../../logic/routes';

export interface ImagePaneState {
  readonly image: { readonly id: number; readonly fileName: string; readonly originalLemma: string; readonly originalWnid: string } | null;
}

export function mountImagePane(parent: HTMLElement): { update(state: ImagePaneState): void } {
  const picture = el('img', { class: 'review-image', testid: 'review-image', attrs: { alt: '', decoding: 'async' } });
  const fileToggle = el('input', { testid: 'show-file-name', attrs: { type: 'checkbox' } });
  const fileName = el('code', { testid: 'review-file-name' });
  const original = el('p', { class: 'review-original', testid: 'review-original' });
  parent.append(el('figure', { class: 'review-figure' }, picture,
    el('figcaption', {}, el('label', {}, fileToggle, ' show file name'), ' ', fileName), original));

  let last: ImagePaneState = { image: null };
  function render(): void {
    const image = last.image;
    if (!image) return;
    setAttr(picture, 'src', imageFileUrl(image.id));
    setAttr(picture, 'alt', fileToggle.checked ? image.fileName : 'The image under review');
    setText(fileName, fileToggle.checked ? image.fileName : '');
    setText(original, `Original label: ${image.originalLemma} (${image.originalWnid})`);
  }
  fileToggle.addEventListener('change', render);

  return {
    update(state) {
      last = state;
      render();
    },
  };
}
