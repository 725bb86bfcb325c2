/**
 * Small DOM helpers. Markup is built with document.createElement; text goes in as text nodes
 * or textContent, never as HTML.
 */

export interface ElementOptions {
  readonly class?: string;
  readonly testid?: string;
  readonly text?: string;
  readonly attrs?: Readonly<Record<string, string>>;
}

export type Child = Node | string;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  options: ElementOptions = {},
  ...children: readonly Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (options.class) element.className = options.class;
  if (options.testid) element.dataset['testid'] = options.testid;
  for (const [name, value] of Object.entries(options.attrs ?? {})) element.setAttribute(name, value);
  if (options.text !== undefined) element.textContent = options.text;
  for (const child of children) element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  return element;
}

/** Sets text only when it differs, so repeated updates do not touch the DOM. */
export function setText(node: Node, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

export function setHidden(element: HTMLElement, hidden: boolean): void {
  if (element.hidden !== hidden) element.hidden = hidden;
}

/** Sets an attribute, or removes it for null. */
export function setAttr(element: Element, name: string, value: string | null): void {
  if (value === null) {
    if (element.hasAttribute(name)) element.removeAttribute(name);
  } else if (element.getAttribute(name) !== value) {
    element.setAttribute(name, value);
  }
}

export function setHref(anchor: HTMLAnchorElement, href: string): void {
  setAttr(anchor, 'href', href);
}

/** An AbortSignal that aborts with its parent, or on its own through the controller. */
export function childController(parent: AbortSignal): AbortController {
  const controller = new AbortController();
  if (parent.aborted) controller.abort();
  else parent.addEventListener('abort', () => controller.abort(), { once: true });
  return controller;
}
