import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { childBranches } from '../src/logic/guide';

const p = (...w: string[]) => w.map((wnid) => ({ wnid, lemma: wnid.toUpperCase() }));

describe('childBranches', () => {
  it('counts the notes of each branch one level below', () => {
    const paths = [p('e', 'a', 'x'), p('e', 'a', 'y'), p('e', 'b', 'z')];
    assert.deepEqual(childBranches(paths, 'e'), [
      { wnid: 'a', lemma: 'A', notes: 2 },
      { wnid: 'b', lemma: 'B', notes: 1 },
    ]);
    assert.deepEqual(childBranches(paths, 'a'), [
      { wnid: 'x', lemma: 'X', notes: 1 },
      { wnid: 'y', lemma: 'Y', notes: 1 },
    ]);
    assert.deepEqual(childBranches(paths, 'x'), []);
    assert.deepEqual(childBranches(paths, null), [{ wnid: 'e', lemma: 'E', notes: 3 }]);
  });
});
