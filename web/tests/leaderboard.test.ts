import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterRows, linearScale, percent, plotDomain, sortRows, type BoardRow } from '../src/logic/leaderboard';

const row = (rank: number, slug: string, kind: string, ml: number | null, top1: number): BoardRow => ({
  rank,
  slug,
  displayName: slug.toUpperCase(),
  kind,
  top1: { value: top1 },
  multiLabel: { value: ml, pending: rank },
  subsets: [{ subset: 'dogs', value: top1 / 2 }],
});

const rows = [row(1, 'a', 'model', 0.9, 0.7), row(2, 'b', 'human', 0.8, 0.8), row(3, 'c', 'model', null, 0.6)];

test('sorting puts missing values last in either direction', () => {
  assert.deepEqual(sortRows(rows, 'multilabel', true).map((r) => r.slug), ['a', 'b', 'c']);
  assert.deepEqual(sortRows(rows, 'multilabel', false).map((r) => r.slug), ['b', 'a', 'c']);
  assert.deepEqual(sortRows(rows, 'subset:dogs', true).map((r) => r.slug), ['b', 'a', 'c']);
  assert.deepEqual(sortRows(rows, 'name', false).map((r) => r.slug), ['a', 'b', 'c']);
});

test('filtering by text and kind', () => {
  assert.deepEqual(filterRows(rows, ' B ', new Set(['model', 'human'])).map((r) => r.slug), ['b']);
  assert.deepEqual(filterRows(rows, '', new Set(['model'])).map((r) => r.slug), ['a', 'c']);
});

test('percentages, scales and the plot domain', () => {
  assert.equal(percent(0.90023), '90.02');
  assert.equal(percent(null), '–');
  assert.equal(linearScale(0, 1, 10, 110)(0.25), 35);
  assert.deepEqual(plotDomain([0.71, 0.93]), [0.65, 0.95]);
  assert.deepEqual(plotDomain([]), [0, 1]);
});
