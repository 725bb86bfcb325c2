/** A strip of thumbnails of images whose original label is a class, loaded the first time it is opened. */
import { api, isAbortError } from '../api/client';
import { el, setHidden, setText } from './dom';
import { hrefs, imageFileUrl } from '../logic/routes';

export function mountExampleStrip(parent: HTMLElement, signal: AbortSignal): { update(dataset: string, wnid: string): void; toggle(): void } {
  const toggleButton = el('button', { class: 'link-button', testid: 'examples-toggle', attrs: { type: 'button' }, text: 'Examples' });
  const strip = el('div', { class: 'example-strip', testid: 'examples' });
  const more = el('a', { text: 'More…' });
  strip.hidden = true;
  parent.append(toggleButton, strip);
  let key = '';
  let loaded = '';
  let dataset = '';
  let wnid = '';

  function load(): void {
    if (loaded === key) return;
    loaded = key;
    strip.replaceChildren(el('span', { class: 'muted', text: 'Loading…' }));
    api
      .get('/api/images', { query: { dataset, wnid, limit: 8 }, signal })
      .then((page) => {
        const images = page.items.filter((i) => i.hasFile);
        more.href = hrefs.class(dataset, wnid);
        strip.replaceChildren(
          ...images.map((i) =>
            el('a', { attrs: { href: hrefs.image(i.id), target: '_blank' } },
              el('img', { attrs: { src: imageFileUrl(i.id), alt: i.fileName, width: '72', height: '72', loading: 'lazy' } })),
          ),
          more,
        );
        if (images.length === 0) strip.prepend(el('span', { class: 'muted', text: 'No example images.' }));
      })
      .catch((error: unknown) => {
        if (!isAbortError(error)) setText(strip, 'Examples could not be loaded.');
      });
  }

  const toggle = (): void => {
    setHidden(strip, !strip.hidden);
    toggleButton.setAttribute('aria-expanded', String(!strip.hidden));
    if (!strip.hidden) load();
  };
  toggleButton.addEventListener('click', toggle);

  return {
    update(nextDataset, nextWnid) {
      dataset = nextDataset;
      wnid = nextWnid;
      key = `${dataset}/${wnid}`;
      if (!strip.hidden) load();
    },
    toggle,
  };
}
