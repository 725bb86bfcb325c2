import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  coverageText, filterRows, intervalText, notSignificantWithNext, partialReason, percent, pValueText, rankIntervalText, scopeOptions,
  signedPercent, sortRows, tauText, togglePick, type BoardRow, type NextComparison,
} from '../src/logic/leaderboard';

const row = (rank: number | null, slug: string, kind: string, ml: number | null, top1: number, versusNext: NextComparison | null = null): BoardRow => ({
  rank,
  slug,
  displayName: slug.toUpperCase(),
  kind,
  top1: { value: top1 },
  multiLabel: { value: ml, pending: rank ?? 9, decidedOnly: ml === null ? null : ml + 0.01 },
  subsets: [{ subset: 'dogs', value: top1 / 2 }],
  versusNext,
});

const rows = [row(1, 'a', 'model', 0.9, 0.7), row(2, 'b', 'human', 0.8, 0.8), row(3, 'c', 'model', null, 0.6)];

test('sorting puts missing values last in either direction', () => {
  assert.deepEqual(sortRows(rows, 'multilabel', true).map((r) => r.slug), ['a', 'b', 'c']);
  assert.deepEqual(sortRows(rows, 'multilabel', false).map((r) => r.slug), ['b', 'a', 'c']);
  assert.deepEqual(sortRows(rows, 'subset:dogs', true).map((r) => r.slug), ['b', 'a', 'c']);
  assert.deepEqual(sortRows(rows, 'name', false).map((r) => r.slug), ['a', 'b', 'c']);
  assert.deepEqual(sortRows(rows, 'decided-only', true).map((r) => r.slug), ['a', 'b', 'c']);
});

test('unranked rows sort after the ranked ones by rank, in either direction, and keep their order', () => {
  const mixed = [row(null, 'p', 'model', 0.95, 0.9), row(2, 'b', 'model', 0.8, 0.8), row(null, 'q', 'model', 0.5, 0.5), row(1, 'a', 'model', 0.9, 0.7)];
  assert.deepEqual(sortRows(mixed, 'rank', false).map((r) => r.slug), ['a', 'b', 'p', 'q']);
  assert.deepEqual(sortRows(mixed, 'rank', true).map((r) => r.slug), ['b', 'a', 'p', 'q']);
  // Ties on a value are broken by rank, unranked last.
  const tied = [row(null, 'x', 'model', 0.5, 0.5), row(2, 'y', 'model', 0.5, 0.5), row(1, 'z', 'model', 0.5, 0.5)];
  assert.deepEqual(sortRows(tied, 'multilabel', true).map((r) => r.slug), ['z', 'y', 'x']);
});

test('filtering by text and kind', () => {
  assert.deepEqual(filterRows(rows, ' B ', new Set(['model', 'human'])).map((r) => r.slug), ['b']);
  assert.deepEqual(filterRows(rows, '', new Set(['model'])).map((r) => r.slug), ['a', 'c']);
});

test('percentages, differences, intervals and p-values', () => {
  assert.equal(percent(0.90023), '90.02');
  assert.equal(percent(null), '–');
  assert.equal(signedPercent(0.0123), '+1.23');
  assert.equal(signedPercent(-0.0456), '−4.56');
  assert.equal(signedPercent(0.00001), '0.00');
  assert.equal(signedPercent(undefined), '–');
  assert.equal(intervalText(0.80907, 0.84798), '[80.9, 84.8]');
  assert.equal(intervalText(null, 0.5), '');
  assert.equal(pValueText(0.24513), 'p = 0.245');
  assert.equal(pValueText(3e-20), 'p < 0.001');
  assert.equal(pValueText(0.001), 'p = 0.001');
});

test('rank intervals, coverage and why a row is not ranked', () => {
  assert.equal(rankIntervalText({ lower: 3, upper: 4 }), '3–4');
  assert.equal(rankIntervalText({ lower: 1, upper: 1 }), '1');
  assert.equal(rankIntervalText(null), '');
  assert.equal(coverageText(1200, 1487), '1,200 of 1,487');
  assert.match(partialReason(1200, 1487), /predicted 1,200 of 1,487 graded images/);
});

test('the n.s. mark joins two shown rows only when they are adjacent in rank and not significantly different', () => {
  const ns = (next: string): NextComparison => ({ next, method: 'mcnemar', pValue: 0.3, significant: false });
  const sig = (next: string): NextComparison => ({ next, method: 'mcnemar', pValue: 0.01, significant: true });
  const board = [row(1, 'a', 'model', 0.9, 0.9, sig('b')), row(2, 'b', 'model', 0.8, 0.8, ns('c')), row(3, 'c', 'model', 0.79, 0.7, null)];
  assert.deepEqual(notSignificantWithNext(board), [false, true, false]);
  // Reversed (sorted by rank descending): the pair is still adjacent, named by the lower row's versusNext.
  assert.deepEqual(notSignificantWithNext([...board].reverse()), [true, false, false]);
  // Filtering out b: a and c are shown next to each other but were never compared.
  assert.deepEqual(notSignificantWithNext([board[0]!, board[2]!]), [false, false]);
  assert.deepEqual(notSignificantWithNext([]), []);
});

test('picking rows to compare keeps the last two and toggles', () => {
  assert.deepEqual(togglePick([], 'a'), ['a']);
  assert.deepEqual(togglePick(['a'], 'b'), ['a', 'b']);
  assert.deepEqual(togglePick(['a', 'b'], 'c'), ['b', 'c']);
  assert.deepEqual(togglePick(['a', 'b'], 'a'), ['b']);
});

test('Kendall tau and the scope choices', () => {
  assert.equal(tauText(0.8667), '0.87');
  assert.equal(tauText(null), '–');
  const sets = [{ name: 'annotated', images: 1000, description: 'ICML 2020' }, { name: 'humans-fast', images: 1, description: '' }];
  const options = scopeOptions(sets, '');
  assert.deepEqual(options.map((o) => o.value), ['', 'all', 'annotated', 'humans-fast']);
  assert.equal(options[2]!.text, 'annotated (1,000 images)');
  assert.equal(options[3]!.text, 'humans-fast (1 image)');
  // The sets could not be listed: the chosen set is still offered.
  assert.deepEqual(scopeOptions(null, 'annotated').map((o) => o.value), ['', 'all', 'annotated']);
});
