/**
 * API tokens as the account page shows them: when a token stops working, and the expiries one can choose.
 * Pure: the current time is passed in.
 */

export interface TokenLike {
  readonly expiresAt?: string | null;
  readonly revokedAt?: string | null;
  readonly active: boolean;
}

const DayMs = 24 * 60 * 60 * 1000;

/** The expiries offered when a token is issued, in days; null is "never" (revoke it instead). */
export const ExpiryChoices: readonly { readonly days: number | null; readonly label: string }[] = [
  { days: 7, label: '7 days' },
  { days: 30, label: '30 days' },
  { days: 90, label: '90 days' },
  { days: 365, label: '1 year' },
  { days: null, label: 'Never' },
];

/** The expiry a new token gets unless the user picks another. */
export const DefaultExpiryDays = 90;

/** A token's state in words: "revoked", "expired 2 days ago", "expires in 29 days (2026-01-04)", "never expires". */
export function describeExpiry(token: TokenLike, now: Date): string {
  if (token.revokedAt) return 'revoked';
  if (!token.expiresAt) return 'never expires';
  const expires = new Date(token.expiresAt);
  const date = expires.toISOString().slice(0, 10);
  const ms = expires.getTime() - now.getTime();
  if (ms <= 0) {
    const ago = Math.floor(-ms / DayMs);
    return ago === 0 ? `expired today (${date})` : `expired ${ago} day${ago === 1 ? '' : 's'} ago (${date})`;
  }
  const days = Math.floor(ms / DayMs);
  if (days === 0) return `expires today (${date})`;
  return `expires in ${days} day${days === 1 ? '' : 's'} (${date})`;
}

/** Parses the expiry select's value: a whole number of days from 1 to 3650, or null for never. */
export function parseExpiryDays(value: string): number | null {
  if (value === 'never' || value === '') return null;
  const days = Number(value);
  if (!Number.isInteger(days) || days < 1 || days > 3650) throw new Error(`Not an expiry: ${value}`);
  return days;
}
