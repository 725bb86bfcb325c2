import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { filterClasses, matchRank, MatchRank, normalizeSearch } from '../src/logic/classFilter';

const classes = [
  { index: 0, wnid: 'n01440764', lemmas: ['tench', 'Tinca tinca'] },
  { index: 1, wnid: 'n01443537', lemmas: ['goldfish', 'Carassius auratus'] },
  { index: 207, wnid: 'n02099601', lemmas: ['golden retriever'] },
  { index: 208, wnid: 'n02099712', lemmas: ['Labrador retriever'] },
  { index: 209, wnid: 'n02099849', lemmas: ['Chesapeake Bay retriever'] },
  { index: 300, wnid: 'n09999999', lemmas: ['retriever'] },
  { index: 400, wnid: 'n03000000', lemmas: ['gold'] },
];

const lemmasOf = (list: readonly { lemmas: readonly string[] }[]): string[] => list.map((c) => c.lemmas[0] ?? '');

describe('normalizeSearch', () => {
  it('lower-cases, trims, collapses spaces and reads underscores as spaces', () => {
    assert.equal(normalizeSearch('  Golden_Retriever  '), 'golden retriever');
    assert.equal(normalizeSearch('golden \t  retriever'), 'golden retriever');
    assert.equal(normalizeSearch(''), '');
  });
});

describe('filterClasses', () => {
  it('returns every class in order for blank text', () => {
    assert.deepEqual(filterClasses(classes, ''), classes);
    assert.deepEqual(filterClasses(classes, '   '), classes);
    assert.notEqual(filterClasses(classes, ''), classes, 'a copy, not the input');
  });

  it('is case-insensitive over all lemmas', () => {
    assert.deepEqual(lemmasOf(filterClasses(classes, 'TINCA')), ['tench']);
    assert.deepEqual(lemmasOf(filterClasses(classes, 'carassius')), ['goldfish']);
  });

  it('matches wnids exactly and by prefix', () => {
    assert.deepEqual(lemmasOf(filterClasses(classes, 'N02099601')), ['golden retriever']);
    assert.deepEqual(lemmasOf(filterClasses(classes, 'n020997')), ['Labrador retriever']);
    assert.deepEqual(lemmasOf(filterClasses(classes, 'n0144')), ['tench', 'goldfish']);
  });

  it('ranks exact, then prefix, then word prefix, then substring; index order within a rank', () => {
    assert.deepEqual(lemmasOf(filterClasses(classes, 'retriever')), [
      'retriever', // exact
      'golden retriever', // word prefix, in index order
      'Labrador retriever',
      'Chesapeake Bay retriever',
    ]);
    assert.deepEqual(lemmasOf(filterClasses(classes, 'gold')), ['gold', 'goldfish', 'golden retriever']);
    assert.deepEqual(lemmasOf(filterClasses(classes, 'triev')), ['golden retriever', 'Labrador retriever', 'Chesapeake Bay retriever', 'retriever']);
  });

  it('accepts underscores and extra spaces in the query', () => {
    assert.deepEqual(lemmasOf(filterClasses(classes, 'golden_retriever')), ['golden retriever']);
    assert.deepEqual(lemmasOf(filterClasses(classes, ' chesapeake   bay ')), ['Chesapeake Bay retriever']);
  });

  it('returns nothing when nothing matches', () => {
    assert.deepEqual(filterClasses(classes, 'zebra'), []);
  });

  it('keeps the full objects', () => {
    const rich = [{ index: 5, wnid: 'n1', lemmas: ['cat'], gloss: 'feline', imageCount: 3 }];
    assert.deepEqual(filterClasses(rich, 'cat'), rich);
  });
});

describe('matchRank', () => {
  it('grades a single class', () => {
    const c = { index: 0, wnid: 'n02099601', lemmas: ['golden retriever'] };
    assert.equal(matchRank(c, 'golden retriever'), MatchRank.Exact);
    assert.equal(matchRank(c, 'n02099601'), MatchRank.Exact);
    assert.equal(matchRank(c, 'golden'), MatchRank.Prefix);
    assert.equal(matchRank(c, 'retr'), MatchRank.WordPrefix);
    assert.equal(matchRank(c, 'olden'), MatchRank.Substring);
    assert.equal(matchRank(c, 'cat'), null);
  });
});
