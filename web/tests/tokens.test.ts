import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DefaultExpiryDays, ExpiryChoices, describeExpiry, parseExpiryDays } from '../src/logic/tokens';

describe('token expiry', () => {
  const now = new Date('2026-12-05T12:00:00Z');

  it('says when a token stops working', () => {
    assert.equal(describeExpiry({ expiresAt: '2027-01-04T12:00:00Z', active: true }, now), 'expires in 30 days (2027-01-04)');
    assert.equal(describeExpiry({ expiresAt: '2026-12-06T13:00:00Z', active: true }, now), 'expires in 1 day (2026-12-06)');
    assert.equal(describeExpiry({ expiresAt: '2026-12-05T18:00:00Z', active: true }, now), 'expires today (2026-12-05)');
    assert.equal(describeExpiry({ expiresAt: '2026-12-03T11:00:00Z', active: false }, now), 'expired 2 days ago (2026-12-03)');
    assert.equal(describeExpiry({ expiresAt: null, active: true }, now), 'never expires');
    assert.equal(describeExpiry({ expiresAt: '2027-01-04T12:00:00Z', revokedAt: '2026-12-01T00:00:00Z', active: false }, now), 'revoked');
  });

  it('offers expiries the API accepts, with a default among them', () => {
    for (const choice of ExpiryChoices) assert.equal(parseExpiryDays(choice.days === null ? 'never' : String(choice.days)), choice.days);
    assert.ok(ExpiryChoices.some((c) => c.days === DefaultExpiryDays));
    assert.throws(() => parseExpiryDays('0'));
    assert.throws(() => parseExpiryDays('3651'));
    assert.throws(() => parseExpiryDays('1.5'));
  });
});
