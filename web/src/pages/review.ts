/** "/review": a placeholder for the review interface. */
import { el, setHidden, setText } from '../components/dom';
import { hasRole } from '../logic/roles';
import { hrefs } from '../logic/routes';
import type { PageContext } from '../pageContext';

export function mountReviewPage(root: HTMLElement, ctx: PageContext): void {
  ctx.setTitle('Review');
  const message = el('p', { class: 'lead' });
  const signIn = el('a', { attrs: { href: hrefs.signIn(hrefs.review()) }, text: 'Sign in' });
  const signInHint = el('p', {}, signIn, ' as a reviewer to review labels.');
  root.append(el('h1', { text: 'Review' }), message, signInHint);

  ctx.session.subscribe((state) => {
    const reviewer = state.status === 'signed-in' && hasRole(state.user.roles, 'reviewer');
    setText(
      message,
      reviewer
        ? 'The review interface arrives soon.'
        : state.status === 'signed-in'
          ? `You are signed in as ${state.user.displayName || state.user.name}, who is not a reviewer.`
          : 'Reviewers judge which labels each image deserves.',
    );
    setHidden(signInHint, reviewer);
  }, ctx.signal);
}
