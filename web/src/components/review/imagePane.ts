/**
 * The image under review, its original label, and (on request) its file name. The image zooms and pans: the wheel
 * zooms at the cursor, a drag pans, a double click resets; the desk's keys call zoom, pan and reset. A new image
 * starts unzoomed.
 */
import { el, setAttr, setText } from '../dom';
import { imageFileUrl } from '../../logic/routes';
import { NO_ZOOM, PAN_STEP, ZOOM_STEP, pan, transformOf, zoomAt, zoomCentre, type Frame, type Zoom } from '../../logic/zoom';

export interface ImagePaneState {
  readonly image: { readonly id: number; readonly fileName: string; readonly originalLemma: string; readonly originalWnid: string } | null;
}

export interface ImagePane {
  update(state: ImagePaneState): void;
  zoom(by: 'in' | 'out' | 'reset'): void;
  /** Pans by one step in each direction given (−1, 0 or 1). */
  pan(dx: number, dy: number): void;
}

export function mountImagePane(parent: HTMLElement): ImagePane {
  const picture = el('img', { class: 'review-image', testid: 'review-image', attrs: { alt: '', decoding: 'async', draggable: 'false' } });
  const frame = el('div', { class: 'review-zoom', testid: 'review-zoom' }, picture);
  const zoomText = el('span', { class: 'muted review-zoom-level', testid: 'review-zoom-level' });
  const fileToggle = el('input', { testid: 'show-file-name', attrs: { type: 'checkbox' } });
  const fileName = el('code', { testid: 'review-file-name' });
  const original = el('p', { class: 'review-original', testid: 'review-original' });
  parent.append(el('figure', { class: 'review-figure' }, frame,
    el('figcaption', {}, el('label', {}, fileToggle, ' show file name'), ' ', fileName, ' ', zoomText), original));

  let last: ImagePaneState = { image: null };
  let shownId: number | null = null;
  let zoom: Zoom = NO_ZOOM;

  const size = (): Frame => ({ width: frame.clientWidth, height: frame.clientHeight });

  function setZoom(next: Zoom): void {
    zoom = next;
    picture.style.transform = transformOf(zoom);
    frame.classList.toggle('zoomed', zoom.scale > 1);
    setText(zoomText, zoom.scale > 1 ? `zoom ${Math.round(zoom.scale * 100)} % (z resets)` : '');
  }

  function render(): void {
    const image = last.image;
    if (!image) return;
    if (image.id !== shownId) {
      shownId = image.id;
      setZoom(NO_ZOOM);
    }
    setAttr(picture, 'src', imageFileUrl(image.id));
    setAttr(picture, 'alt', fileToggle.checked ? image.fileName : 'The image under review');
    setText(fileName, fileToggle.checked ? image.fileName : '');
    setText(original, `Original label: ${image.originalLemma} (${image.originalWnid})`);
  }
  fileToggle.addEventListener('change', render);

  frame.addEventListener('wheel', (event) => {
    event.preventDefault();
    const box = frame.getBoundingClientRect();
    setZoom(zoomAt(zoom, event.deltaY < 0 ? ZOOM_STEP : 1 / ZOOM_STEP, event.clientX - box.left, event.clientY - box.top, size()));
  }, { passive: false });

  let drag: { x: number; y: number } | null = null;
  frame.addEventListener('pointerdown', (event) => {
    if (event.button !== 0 || zoom.scale <= 1) return;
    drag = { x: event.clientX, y: event.clientY };
    frame.setPointerCapture(event.pointerId);
    frame.classList.add('dragging');
  });
  frame.addEventListener('pointermove', (event) => {
    if (!drag) return;
    setZoom(pan(zoom, event.clientX - drag.x, event.clientY - drag.y, size()));
    drag = { x: event.clientX, y: event.clientY };
  });
  const endDrag = (): void => {
    drag = null;
    frame.classList.remove('dragging');
  };
  frame.addEventListener('pointerup', endDrag);
  frame.addEventListener('pointercancel', endDrag);
  frame.addEventListener('dblclick', () => setZoom(NO_ZOOM));

  return {
    update(state) {
      last = state;
      render();
    },
    zoom(by) {
      setZoom(by === 'reset' ? NO_ZOOM : zoomCentre(zoom, by === 'in' ? ZOOM_STEP : 1 / ZOOM_STEP, size()));
    },
    pan(dx, dy) {
      setZoom(pan(zoom, dx * PAN_STEP, dy * PAN_STEP, size()));
    },
  };
}
