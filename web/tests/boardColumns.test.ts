import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boardCsv, boardCsvName, columnTitle, csvText, shownSort, subsetCaption, subsetColumns, subsetLabel, type CsvRow } from '../src/logic/boardColumns';

const SUBSETS = ['all', 'objects', 'organisms', 'dogs'];

test('with every image chosen the table breaks the headline down by subset, one named column each', () => {
  const columns = subsetColumns(SUBSETS, 'all');
  assert.deepEqual(columns.map((c) => c.subset), ['objects', 'organisms', 'dogs']);
  assert.deepEqual(columns.map((c) => c.label), ['Objects', 'Organisms', 'Dogs']);
  assert.deepEqual(columns.map((c) => c.key), ['subset:objects', 'subset:organisms', 'subset:dogs']);
  assert.match(columns[2]!.title, /subset 'dogs' only/);
});

test('with one subset chosen no other subset is shown as a column', () => {
  assert.deepEqual(subsetColumns(SUBSETS, 'dogs'), []);
  assert.deepEqual(subsetColumns(SUBSETS, 'objects'), []);
});

test('a dataset\'s own subsets are named as readers write them', () => {
  assert.equal(subsetLabel('big-cats'), 'Big cats');
  assert.deepEqual(subsetColumns(['all', 'big-cats'], 'all').map((c) => c.label), ['Big cats']);
});

test('the caption and the tooltips say which images the figures cover', () => {
  assert.match(subsetCaption('all', 1234, null), /^Every figure is on the 1,234 graded images of every image;/);
  assert.match(subsetCaption('dogs', 500, 'annotated'), /^Subset 'dogs': every figure \(the shifted ones too\) is on the 500 graded images of the image set 'annotated' whose original class is in 'dogs'\./);
  assert.equal(columnTitle('Top-1 accuracy', 'all'), 'Top-1 accuracy');
  assert.equal(columnTitle('Top-1 accuracy', 'dogs'), "Top-1 accuracy. On the subset 'dogs' only.");
});

test('a sort by a subset column not shown falls back to the rank', () => {
  assert.equal(shownSort('subset:objects', subsetColumns(SUBSETS, 'dogs')), 'rank');
  assert.equal(shownSort('subset:objects', subsetColumns(SUBSETS, 'all')), 'subset:objects');
  assert.equal(shownSort('top1', []), 'top1');
});

function row(slug: string, name: string, value: number): CsvRow {
  return {
    rank: 1, rankInterval: { lower: 1, upper: 2 }, slug, displayName: name, kind: 'model', value, predicted: 10, images: 10,
    top1: { value: 0.5 }, top5: null,
    multiLabel: { value, lower: 0.1, upper: 0.9, pending: 0, decidedOnly: value, boundLower: value, boundUpper: value },
    shift: null, versusNext: null, provisional: false,
    subsets: [{ subset: 'objects', value: 0.25 }, { subset: 'dogs', value: 0.125 }],
  };
}

test('the CSV holds the rows as shown with the columns shown, and names its subset on every line', () => {
  const rows = [row('a', '=cmd', 0.75), row('b', 'Name, with comma', 0.5)];
  const view = { dataset: 'demo-val', subset: 'dogs', imageSet: 'annotated', labelVersion: 3, columns: subsetColumns(SUBSETS, 'dogs') };
  const lines = boardCsv(rows, view).trimEnd().split('\n');
  assert.equal(lines.length, 3);
  assert.ok(!lines[0]!.includes('subset_'), lines[0]);
  assert.match(lines[1]!, /^1,1,2,a,'=cmd,model,demo-val,dogs,annotated,3,0\.75,0\.1,0\.9,/);
  assert.match(lines[2]!, /^1,1,2,b,"Name, with comma",/);

  const all = { ...view, subset: 'all', columns: subsetColumns(SUBSETS, 'all') };
  const [header, first] = boardCsv(rows, all).trimEnd().split('\n');
  const cells = header!.split(',');
  assert.deepEqual(cells.filter((c) => c.startsWith('subset_')), ['subset_objects', 'subset_organisms', 'subset_dogs']);
  const values = first!.split(',');
  assert.equal(values[cells.indexOf('subset_objects')], '0.25');
  assert.equal(values[cells.indexOf('subset_organisms')], '');
  assert.equal(values[cells.indexOf('subset_dogs')], '0.125');
  assert.equal(boardCsvName(view), 'relabel-demo-val-dogs-annotated-v3.csv');
});

test('a text cell is quoted when it needs it and never runs as a formula', () => {
  assert.equal(csvText('plain'), 'plain');
  assert.equal(csvText('say "hi"'), '"say ""hi"""');
  assert.equal(csvText('@SUM(A1)'), "'@SUM(A1)");
  assert.equal(csvText('-1,2'), `"'-1,2"`);
});
