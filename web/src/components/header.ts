/** The site header: brand, navigation, and who is signed in with a sign-out button. */
import { el, setAttr, setHidden, setText } from './dom';
import { hrefs, type NavSection } from '../logic/routes';
import { hasRole } from '../logic/roles';
import type { SessionState } from '../session';

export interface HeaderState {
  readonly section: NavSection | null;
  readonly session: SessionState;
}

export interface HeaderOptions {
  /** Signs out; the button stays disabled until the promise settles. */
  onSignOut(): Promise<void>;
}

const Links: readonly { section: NavSection; href: string; text: string }[] = [
  { section: 'leaderboard', href: hrefs.leaderboard(), text: 'Leaderboard' },
  { section: 'review', href: hrefs.review(), text: 'Review' },
  { section: 'labeling', href: hrefs.labeling(), text: 'Labeling' },
  { section: 'guide', href: hrefs.guide(), text: 'Guide' },
  { section: 'browse', href: hrefs.browse(), text: 'Browse' },
  { section: 'submit', href: hrefs.submit(), text: 'Submit predictions' },
  // Shown to admins only.
  { section: 'imports', href: hrefs.imports(), text: 'Imports' },
  { section: 'sign-in', href: hrefs.signIn(), text: 'Sign in' },
];

export function mountHeader(parent: HTMLElement, options: HeaderOptions): { update(state: HeaderState): void } {
  const links = Links.map((link) => ({
    ...link,
    anchor: el('a', { attrs: { href: link.href }, text: link.text }),
  }));
  const items = links.map((link) => ({ ...link, item: el('li', {}, link.anchor) }));
  const nav = el('nav', { class: 'site-nav', testid: 'nav', attrs: { 'aria-label': 'Main' } }, el('ul', {}, ...items.map((i) => i.item)));
  // The name leads to the account page: password and API tokens.
  const currentUser = el('a', { class: 'current-user', testid: 'current-user', attrs: { href: hrefs.account() } });
  const signOut = el('button', { class: 'link-button', testid: 'sign-out', attrs: { type: 'button' }, text: 'Sign out' });
  const account = el('div', { class: 'account' }, currentUser, signOut);
  const brand = el('a', { class: 'brand', attrs: { href: '/' }, text: 'Relabel' });
  parent.append(el('div', { class: 'site-header-inner' }, brand, nav, account));

  let busy = false;
  let last: HeaderState | null = null;

  signOut.addEventListener('click', () => {
    if (busy) return;
    busy = true;
    render();
    options.onSignOut().finally(() => {
      busy = false;
      render();
    });
  });

  function render(): void {
    if (!last) return;
    const { section, session } = last;
    const signedIn = session.status === 'signed-in';
    for (const link of items) {
      setAttr(link.anchor, 'aria-current', link.section === section ? 'page' : null);
      const isAdmin = session.status === 'signed-in' && hasRole(session.user.roles, 'admin');
      setHidden(link.item, (link.section === 'sign-in' && signedIn) || (link.section === 'imports' && !isAdmin));
    }
    setHidden(account, !signedIn);
    if (session.status === 'signed-in') {
      setText(currentUser, session.user.displayName || session.user.name);
      setAttr(currentUser, 'title', `${session.user.name} (${session.user.roles.join(', ') || 'no roles'})`);
    } else {
      setText(currentUser, '');
      setAttr(currentUser, 'title', null);
    }
    signOut.disabled = busy;
  }

  return {
    update(state) {
      last = state;
      render();
    },
  };
}
