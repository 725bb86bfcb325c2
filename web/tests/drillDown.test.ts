import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canSeeImages, candidateRows, pageOf, saidCaption, verdictText } from '../src/logic/drillDown';

const p = (model: string, kind: string, wnid: string, lemma: string, state: string) =>
  ({ model, displayName: model.toUpperCase(), kind, top1Wnid: wnid, top1Lemma: lemma, state });

describe('drill-downs', () => {
  it('shows image files to signed-in readers and to everyone on public datasets', () => {
    assert.equal(canSeeImages(false, false), false);
    assert.equal(canSeeImages(true, false), true);
    assert.equal(canSeeImages(false, true), true);
  });

  it('pages a list and clamps the page', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const second = pageOf(items, 2, 24);
    assert.deepEqual([second.page, second.pages, second.first, second.last, second.items.length], [2, 3, 25, 48, 24]);
    assert.deepEqual(pageOf(items, 9, 24).items, [48, 49]);
    assert.equal(pageOf(items, 0, 24).page, 1);
    assert.equal(pageOf(items, Number.NaN, 24).page, 1);
    const empty = pageOf([], 3, 24);
    assert.deepEqual([empty.page, empty.pages, empty.first, empty.last], [1, 1, 0, 0]);
  });

  it('groups the top-1 answers of an image into candidate labels, the original first', () => {
    const rows = candidateRows('n1', 'tabby', [
      p('a', 'model', 'n2', 'tiger cat', 'correct'),
      p('b', 'model', 'n2', 'tiger cat', 'correct'),
      p('h', 'human', 'n2', 'tiger cat', 'correct'),
      p('c', 'model', 'n3', 'lynx', 'wrong'),
    ]);
    assert.deepEqual(rows.map((r) => [r.wnid, r.state, r.isOriginal, r.models.length, r.humans.length]), [
      ['n1', null, true, 0, 0],
      ['n2', 'correct', false, 2, 1],
      ['n3', 'wrong', false, 1, 0],
    ]);
    const predicted = candidateRows('n1', 'tabby', [p('a', 'model', 'n1', 'tabby', 'wrong')]);
    assert.deepEqual(predicted.map((r) => [r.wnid, r.state, r.models.length]), [['n1', 'wrong', 1]]);
  });

  it('captions what models and humans said', () => {
    assert.equal(saidCaption([{ lemma: 'tabby', models: 2, humans: 1 }, { lemma: 'lynx', models: 5, humans: 0 }]),
      'models said lynx (5), tabby (2); humans said tabby (1)');
    assert.equal(saidCaption([]), 'no predictions');
    assert.equal(verdictText('conflict'), 'Reviewers disagree');
    assert.equal(verdictText(null), 'No entry predicted it');
  });
});
