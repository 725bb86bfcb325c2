/**
 * A small, safe Markdown subset for labeling-guide notes, parsed into a tree that components turn into DOM nodes
 * (never HTML): paragraphs, "-"/"*" bullet lists, **strong**, *em* or _em_, `code`, and [links](https://…) whose
 * target is http(s) only. Anything else is text. Pure.
 */

export type Inline =
  | { readonly kind: 'text' | 'strong' | 'em' | 'code'; readonly text: string }
  | { readonly kind: 'link'; readonly text: string; readonly href: string };

export type Block = { readonly kind: 'paragraph'; readonly inlines: Inline[] } | { readonly kind: 'list'; readonly items: Inline[][] };

export function parseMarkdown(source: string): Block[] {
  const blocks: Block[] = [];
  let paragraph: string[] = [];
  let list: string[] = [];
  const flush = (): void => {
    if (paragraph.length > 0) blocks.push({ kind: 'paragraph', inlines: parseInline(paragraph.join(' ')) });
    if (list.length > 0) blocks.push({ kind: 'list', items: list.map(parseInline) });
    paragraph = [];
    list = [];
  };
  for (const raw of source.replace(/\r\n?/g, '\n').split('\n')) {
    const line = raw.trim();
    const bullet = /^[-*]\s+(.*)$/.exec(line);
    if (line === '') flush();
    else if (bullet) {
      if (paragraph.length > 0) flush();
      list.push(bullet[1] ?? '');
    } else {
      if (list.length > 0) flush();
      paragraph.push(line);
    }
  }
  flush();
  return blocks;
}

const INLINE = /\*\*([^*]+)\*\*|\*([^*\s][^*]*)\*|_([^_\s][^_]*)_|`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)/g;

export function parseInline(text: string): Inline[] {
  const out: Inline[] = [];
  let last = 0;
  const push = (inline: Inline): void => {
    const previous = out[out.length - 1];
    if (inline.kind === 'text' && previous?.kind === 'text') out[out.length - 1] = { kind: 'text', text: previous.text + inline.text };
    else if (inline.text !== '') out.push(inline);
  };
  for (const match of text.matchAll(INLINE)) {
    const index = match.index ?? 0;
    push({ kind: 'text', text: text.slice(last, index) });
    const [whole, strong, em1, em2, code, linkText, href] = match;
    if (strong !== undefined) push({ kind: 'strong', text: strong });
    else if (em1 !== undefined || em2 !== undefined) push({ kind: 'em', text: em1 ?? em2 ?? '' });
    else if (code !== undefined) push({ kind: 'code', text: code });
    else if (linkText !== undefined && href !== undefined && /^https?:\/\//i.test(href)) push({ kind: 'link', text: linkText, href });
    else push({ kind: 'text', text: whole });
    last = index + whole.length;
  }
  push({ kind: 'text', text: text.slice(last) });
  return out;
}
