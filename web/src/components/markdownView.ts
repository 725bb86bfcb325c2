/** Renders a guide note's Markdown subset as DOM nodes (text only ever in text nodes; links open http(s) only). */
import { el } from './dom';
import { parseMarkdown, type Inline } from '../logic/markdown';

function inline(part: Inline): Node {
  switch (part.kind) {
    case 'text':
      return document.createTextNode(part.text);
    case 'strong':
      return el('strong', { text: part.text });
    case 'em':
      return el('em', { text: part.text });
    case 'code':
      return el('code', { text: part.text });
    case 'link':
      return el('a', { text: part.text, attrs: { href: part.href, rel: 'noopener noreferrer', target: '_blank' } });
  }
}

export function renderMarkdown(source: string): DocumentFragment {
  const fragment = document.createDocumentFragment();
  for (const block of parseMarkdown(source)) {
    if (block.kind === 'paragraph') fragment.append(el('p', {}, ...block.inlines.map(inline)));
    else fragment.append(el('ul', {}, ...block.items.map((item) => el('li', {}, ...item.map(inline)))));
  }
  return fragment;
}
