import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseReviewQuery, reviewHref } from '../src/logic/reviewUrl';

describe('review address', () => {
  it('reads the dataset, subset, queue and image', () => {
    assert.deepEqual(parseReviewQuery('?dataset=demo-val&subset=dogs&mode=conflicts&image=42'),
      { dataset: 'demo-val', subset: 'dogs', mode: 'conflicts', image: 42 });
    assert.deepEqual(parseReviewQuery('image=7'), { dataset: null, subset: null, mode: 'pending', image: 7 });
    assert.equal(parseReviewQuery('image=abc').image, null);
    assert.equal(parseReviewQuery('image=-3').image, null);
    assert.equal(parseReviewQuery('mode=nonsense').mode, 'pending');
  });

  it('writes an address that reads back the same, pending left out', () => {
    const query = { dataset: 'demo-val', subset: 'dogs', mode: 'conflicts' as const, image: 42 };
    assert.equal(reviewHref(query), '/review?dataset=demo-val&subset=dogs&mode=conflicts&image=42');
    assert.deepEqual(parseReviewQuery(reviewHref(query).split('?')[1]!), query);
    assert.equal(reviewHref({ dataset: 'a b', subset: null, mode: 'pending', image: null }), '/review?dataset=a+b');
    assert.equal(reviewHref({ dataset: null, subset: null, mode: 'pending', image: null }), '/review');
  });
});
