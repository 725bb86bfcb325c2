/**
 * "/account": the signed-in user's own password and API tokens. A token's expiry is chosen when it is issued and
 * shown in the list (with revocation); a new token is shown once. Changing the password ends every other session.
 */
import { api, isAbortError, toProblem } from '../api/client';
import type { TokenInfo } from '../api/types';
import { el, setHidden, setText } from '../components/dom';
import { mountKeyedList } from '../components/keyedList';
import { mountProblemBox } from '../components/problemBox';
import { hrefs } from '../logic/routes';
import { DefaultExpiryDays, ExpiryChoices, describeExpiry, parseExpiryDays } from '../logic/tokens';
import type { PageContext } from '../pageContext';

export function mountAccountPage(root: HTMLElement, ctx: PageContext): void {
  ctx.setTitle('Account');
  const heading = el('h1', { text: 'Account' });
  const signIn = el('p', { class: 'notice' }, 'Sign in to manage your password and API tokens: ',
    el('a', { text: 'sign in', attrs: { href: hrefs.signIn('/account') } }));
  const sections = el('div');
  root.append(heading, signIn, sections);
  const tokens = mountTokens(sections, ctx);
  mountPasswordForm(sections, ctx);

  ctx.session.subscribe((session) => {
    const signedIn = session.status === 'signed-in';
    setHidden(signIn, signedIn || session.status === 'unknown');
    setHidden(sections, !signedIn);
    setText(heading, signedIn ? `Account: ${session.user.name}` : 'Account');
    if (signedIn) tokens.reload();
  }, ctx.signal);
}

/** The caller's tokens with their expiry, revocation, and a form to issue one with a chosen expiry. */
function mountTokens(parent: HTMLElement, ctx: PageContext): { reload(): void } {
  const name = el('input', { testid: 'token-name', attrs: { id: 'token-name', maxlength: '100', placeholder: 'laptop' } });
  const expiry = el('select', { testid: 'token-expiry', attrs: { id: 'token-expiry' } },
    ...ExpiryChoices.map((c) => el('option', { text: c.label, attrs: { value: c.days === null ? 'never' : String(c.days) } })));
  expiry.value = String(DefaultExpiryDays);
  const issue = el('button', { class: 'button button-primary', testid: 'token-issue', text: 'Issue token', attrs: { type: 'submit' } });
  const form = el('form', { class: 'form', testid: 'token-form' },
    el('div', { class: 'field' }, el('label', { text: 'Name', attrs: { for: 'token-name' } }), name),
    el('div', { class: 'field' }, el('label', { text: 'Expires after', attrs: { for: 'token-expiry' } }), expiry));
  const problem = mountProblemBox(form);
  form.append(el('div', { class: 'form-actions' }, issue));

  const shownToken = el('code', { testid: 'token-value' });
  const shownExpiry = el('span', { testid: 'token-value-expiry' });
  const created = el('p', { class: 'notice', testid: 'token-created' },
    'Your new token (shown once: copy it now): ', shownToken, ' — ', shownExpiry);
  created.hidden = true;

  const rows = el('tbody');
  const table = el('table', { class: 'data-table', testid: 'token-list' },
    el('thead', {}, el('tr', {}, ...['Name', 'Issued', 'Expiry', ''].map((h) => el('th', { text: h })))), rows);
  const list = mountKeyedList<TokenInfo>(rows, (t) => String(t.id), () => {
    const nameCell = el('td');
    const issued = el('td');
    const state = el('td', { class: 'token-expiry' });
    const revoke = el('button', { class: 'link-button', text: 'Revoke', attrs: { type: 'button' } });
    const row = el('tr', { testid: 'token-row' }, nameCell, issued, state, el('td', {}, revoke));
    let current: TokenInfo | null = null;
    revoke.addEventListener('click', () => {
      if (!current) return;
      revoke.disabled = true;
      api.delete('/api/auth/tokens/{id}', { path: { id: current.id } })
        .then(reload, (error: unknown) => problem.update(toProblem(error)))
        .finally(() => { revoke.disabled = false; });
    });
    return {
      el: row,
      update(token) {
        current = token;
        setText(nameCell, token.name || '(unnamed)');
        setText(issued, token.createdAt.slice(0, 10));
        setText(state, describeExpiry(token, new Date()));
        setHidden(revoke, !token.active);
      },
    };
  });
  const empty = el('p', { text: 'No API tokens yet.' });

  parent.append(el('section', { testid: 'tokens' },
    el('h2', { text: 'API tokens' }),
    el('p', { text: 'Programs send a token as "Authorization: Bearer rl_…"; it acts with your roles until it expires or is revoked.' }),
    form, created, table, empty));

  function reload(): void {
    api.get('/api/auth/tokens', { signal: ctx.signal }).then((tokens) => {
      list.update(tokens);
      setHidden(table, tokens.length === 0);
      setHidden(empty, tokens.length > 0);
    }, (error: unknown) => {
      if (!isAbortError(error)) problem.update(toProblem(error));
    });
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    issue.disabled = true;
    problem.update(null);
    api.post('/api/auth/tokens', { body: { name: name.value.trim(), expiresInDays: parseExpiryDays(expiry.value) } })
      .then((token) => {
        setText(shownToken, token.token);
        setText(shownExpiry, describeExpiry({ expiresAt: token.expiresAt ?? null, active: true }, new Date()));
        setHidden(created, false);
        name.value = '';
        reload();
      }, (error: unknown) => problem.update(toProblem(error)))
      .finally(() => { issue.disabled = false; });
  });

  return { reload };
}

/** The own password: the current one and the new one twice. */
function mountPasswordForm(parent: HTMLElement, ctx: PageContext): void {
  const input = (id: string, autocomplete: string): HTMLInputElement =>
    el('input', { testid: id, attrs: { id, type: 'password', autocomplete, required: '' } });
  const current = input('password-current', 'current-password');
  const next = input('password-new', 'new-password');
  const repeat = input('password-repeat', 'new-password');
  next.minLength = 10;
  const save = el('button', { class: 'button button-primary', testid: 'password-save', text: 'Change password', attrs: { type: 'submit' } });
  const done = el('p', { class: 'notice', testid: 'password-changed', text: 'Your password is changed; your other sessions have ended.' });
  done.hidden = true;
  const form = el('form', { class: 'form', testid: 'password-form' },
    el('div', { class: 'field' }, el('label', { text: 'Current password', attrs: { for: 'password-current' } }), current),
    el('div', { class: 'field' }, el('label', { text: 'New password (10 characters or more)', attrs: { for: 'password-new' } }), next),
    el('div', { class: 'field' }, el('label', { text: 'New password again', attrs: { for: 'password-repeat' } }), repeat));
  const problem = mountProblemBox(form);
  form.append(el('div', { class: 'form-actions' }, save), done);
  parent.append(el('section', { testid: 'password' }, el('h2', { text: 'Password' }), form));

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    setHidden(done, true);
    if (next.value !== repeat.value) {
      problem.update({ status: 0, title: 'The new passwords differ', detail: 'Type the same new password twice.', errors: [], errorCount: 0, traceId: null });
      return;
    }
    save.disabled = true;
    problem.update(null);
    api.post('/api/auth/password', { body: { currentPassword: current.value, newPassword: next.value } })
      .then(() => {
        for (const field of [current, next, repeat]) field.value = '';
        setHidden(done, false);
      }, (error: unknown) => {
        if (!ctx.signal.aborted) problem.update(toProblem(error));
      })
      .finally(() => { save.disabled = false; });
  });
}
