/** Who is signed in: loaded from GET /api/auth/me, changed by sign-in and sign-out, observed by the header and pages. */
import { fetchCurrentUser, signIn, signOut } from './api/client';
import type { CurrentUser } from './api/types';

export type SessionState =
  | { readonly status: 'unknown' }
  | { readonly status: 'anonymous' }
  | { readonly status: 'signed-in'; readonly user: CurrentUser };

export type SessionListener = (state: SessionState) => void;

export interface Session {
  readonly state: SessionState;
  /** Calls the listener now and on every change, until the signal aborts. */
  subscribe(listener: SessionListener, signal?: AbortSignal): void;
  refresh(): Promise<void>;
  signIn(name: string, password: string): Promise<CurrentUser>;
  signOut(): Promise<void>;
}

export function createSession(): Session {
  let state: SessionState = { status: 'unknown' };
  const listeners = new Set<SessionListener>();

  function set(next: SessionState): void {
    state = next;
    for (const listener of [...listeners]) listener(state);
  }

  async function refresh(): Promise<void> {
    try {
      const user = await fetchCurrentUser();
      set(user ? { status: 'signed-in', user } : { status: 'anonymous' });
    } catch (error) {
      console.warn('Could not load the signed-in user', error);
      set({ status: 'unknown' });
    }
  }

  return {
    get state() {
      return state;
    },
    subscribe(listener, signal) {
      if (signal?.aborted) return;
      listeners.add(listener);
      signal?.addEventListener('abort', () => listeners.delete(listener), { once: true });
      listener(state);
    },
    refresh,
    async signIn(name, password) {
      const user = await signIn({ name, password });
      set({ status: 'signed-in', user });
      return user;
    },
    async signOut() {
      try {
        await signOut();
        set({ status: 'anonymous' });
      } catch (error) {
        await refresh();
        throw error;
      }
    },
  };
}
