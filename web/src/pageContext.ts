/** What every page gets when it is mounted. */
import type { NavigateOptions } from './router';
import type { Session } from './session';

export interface PageContext {
  /** Aborts when the page is left: pending requests are cancelled and subscriptions end. */
  readonly signal: AbortSignal;
  readonly session: Session;
  /** The current address (path, query and hash). */
  readonly location: () => string;
  navigate(location: string, options?: NavigateOptions): void;
  /** Updates the address (e.g. the search query) without mounting the page again. */
  replaceQuietly(location: string): void;
  /** Adds a history entry for a new address without mounting the page again (back returns to the previous one). */
  pushQuietly(location: string): void;
  /** Sets document.title to "parts · Relabel". */
  setTitle(...parts: readonly string[]): void;
}
