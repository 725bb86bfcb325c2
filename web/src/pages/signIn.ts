/** "/sign-in?next=PATH": name and password; on success the session cookie is set and we go on to PATH (or home). */
import { isAbortError, toProblem } from '../api/client';
import { el, setHidden, setText } from '../components/dom';
import { mountProblemBox } from '../components/problemBox';
import type { Problem } from '../logic/problem';
import type { SessionState } from '../session';
import type { PageContext } from '../pageContext';

interface SignInState {
  submitting: boolean;
  problem: Problem | null;
  session: SessionState;
}

export function mountSignInPage(root: HTMLElement, route: { next: string | null }, ctx: PageContext): void {
  ctx.setTitle('Sign in');
  const state: SignInState = { submitting: false, problem: null, session: ctx.session.state };

  const already = el('p', { class: 'notice' });
  const name = el('input', {
    testid: 'signin-name',
    attrs: { id: 'signin-name', name: 'name', type: 'text', autocomplete: 'username', required: '', autocapitalize: 'none', spellcheck: 'false' },
  });
  const password = el('input', {
    testid: 'signin-password',
    attrs: { id: 'signin-password', name: 'password', type: 'password', autocomplete: 'current-password', required: '' },
  });
  const submit = el('button', { class: 'button button-primary', testid: 'signin-submit', attrs: { type: 'submit' }, text: 'Sign in' });
  const form = el(
    'form',
    { class: 'form', testid: 'signin-form', attrs: { method: 'post', action: '/sign-in' } },
    el('div', { class: 'field' }, el('label', { attrs: { for: 'signin-name' }, text: 'Name' }), name),
    el('div', { class: 'field' }, el('label', { attrs: { for: 'signin-password' }, text: 'Password' }), password),
  );
  root.append(el('h1', { text: 'Sign in' }), already, form);
  const problem = mountProblemBox(form);
  form.append(el('div', { class: 'form-actions' }, submit));

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (state.submitting) return;
    state.submitting = true;
    state.problem = null;
    update();
    ctx.session
      .signIn(name.value.trim(), password.value)
      .then(() => {
        if (!ctx.signal.aborted) ctx.navigate(route.next ?? '/');
      })
      .catch((error: unknown) => {
        if (isAbortError(error) || ctx.signal.aborted) return;
        state.submitting = false;
        state.problem = toProblem(error);
        password.value = '';
        update();
        password.focus();
      });
  });

  function update(): void {
    const signedIn = state.session.status === 'signed-in' ? state.session.user : null;
    setHidden(already, signedIn === null);
    setText(already, signedIn ? `You are signed in as ${signedIn.displayName || signedIn.name}. Sign in again to switch accounts.` : '');
    problem.update(state.problem);
    submit.disabled = state.submitting;
    setText(submit, state.submitting ? 'Signing in…' : 'Sign in');
    form.setAttribute('aria-busy', String(state.submitting));
  }

  ctx.session.subscribe((session) => {
    state.session = session;
    update();
  }, ctx.signal);
  name.focus();
}
