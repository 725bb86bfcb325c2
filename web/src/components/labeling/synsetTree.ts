/** The WordNet tree of a label space, one level at a time and cached, so the 1,000-class space stays instant after the first look. */
import { api } from '../../api/client';
import type { SynsetChild } from '../../api/types';
import { expandable, leadsToClasses } from '../../logic/labeling';
import { el } from '../dom';

const Entity = 'n00001740';

export function mountSynsetTree(
  parent: HTMLElement,
  options: { dataset: string; signal: AbortSignal; onPick(wnid: string, name: string): void; onName(wnid: string, name: string): void; onError(error: unknown): void },
): void {
  const tree = el('ul', { class: 'labeling-tree', testid: 'labeling-tree' });
  parent.append(el('h2', { text: 'By WordNet branch' }), tree);
  const childrenOf = new Map<string, Promise<SynsetChild[]>>();

  function children(wnid: string): Promise<SynsetChild[]> {
    let found = childrenOf.get(wnid);
    if (!found) {
      found = api.get('/api/synsets/{wnid}', { path: { wnid }, query: { dataset: options.dataset }, signal: options.signal })
        .then((s) => s.children.filter(leadsToClasses));
      childrenOf.set(wnid, found);
    }
    return found;
  }

  function node(child: SynsetChild): HTMLLIElement {
    const name = child.lemmas[0] ?? child.wnid;
    options.onName(child.wnid, name);
    const sub = el('ul');
    sub.hidden = true;
    const toggle = el('button', { class: 'link-button tree-toggle', attrs: { type: 'button', 'aria-expanded': 'false', 'aria-label': `Expand ${name}` }, text: '▸' });
    toggle.hidden = !expandable(child);
    toggle.addEventListener('click', () => {
      const opening = sub.hidden;
      sub.hidden = !opening;
      toggle.textContent = opening ? '▾' : '▸';
      toggle.setAttribute('aria-expanded', String(opening));
      if (opening && sub.childElementCount === 0) fill(sub, child.wnid);
    });
    const label = child.inLabelSpace ? el('button', { class: 'link-button', attrs: { type: 'button' }, text: name }) : el('span', { text: name });
    if (label instanceof HTMLButtonElement) label.addEventListener('click', () => options.onPick(child.wnid, name));
    return el('li', { attrs: { 'data-wnid': child.wnid } }, toggle, ' ', label, el('span', { class: 'muted', text: ` (${child.classesBelow})` }), sub);
  }

  // A level is filled once, when first opened; it never changes afterwards.
  function fill(list: HTMLUListElement, wnid: string): void {
    children(wnid).then((kids) => list.replaceChildren(...kids.map(node))).catch(options.onError);
  }

  fill(tree, Entity);
}
