import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expandable, leadsToClasses, percent, progressText } from '../src/logic/labeling';

describe('labeling logic', () => {
  it('writes progress as the paper does', () => {
    assert.equal(progressText({ answered: 100, total: 236, partsCompleted: 10, parts: 24 }), 'completed 100 of 236 images, 10 of 24 parts');
  });
  it('shows tree nodes that lead to classes and expands those with classes strictly below', () => {
    assert.equal(leadsToClasses({ inLabelSpace: false, classesBelow: 0 }), false);
    assert.equal(leadsToClasses({ inLabelSpace: true, classesBelow: 1 }), true);
    assert.equal(expandable({ inLabelSpace: true, classesBelow: 1 }), false);
    assert.equal(expandable({ inLabelSpace: false, classesBelow: 1 }), true);
    assert.equal(percent(5 / 6), '83%');
  });
});
