import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expandable, leadsToClasses, moveHighlight, noteTitle, partSummary, percent, progressText } from '../src/logic/labeling';

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

describe('labeling chooser and feedback', () => {
  it('wraps the highlight around the hits', () => {
    assert.equal(moveHighlight(0, -1, 3), 2);
    assert.equal(moveHighlight(2, 1, 3), 0);
    assert.equal(moveHighlight(1, 1, 3), 2);
    assert.equal(moveHighlight(0, 1, 0), 0);
  });
  it('titles notes by class names and sums up a completed part', () => {
    const names = new Map([['n1', 'tench'], ['n2', 'goldfish']]);
    const name = (w: string): string => names.get(w) ?? w;
    assert.equal(noteTitle({ wnid: 'n1', otherWnid: 'n2' }, name), 'tench vs goldfish');
    assert.equal(noteTitle({ wnid: 'n1', otherWnid: null }, name), 'tench');
    assert.equal(noteTitle({ wnid: 'n1' }, name, 'Guide'), 'Guide');
    assert.deepEqual(partSummary(null, true, name), { heading: null, lines: [] });
    assert.deepEqual(partSummary([], true, name), { heading: 'Part complete without mistakes.', lines: [] });
    assert.deepEqual(partSummary([{ position: 4, answer: 'n2', correctLabels: ['n1', 'n3'] }], true, name), {
      heading: 'Part complete; 1 mistake(s) to review:',
      lines: [{ position: 4, text: ': you said goldfish, correct tench, n3' }],
    });
    assert.deepEqual(partSummary([{ position: 4, answer: 'n2', correctLabels: [] }], false, name), { heading: null, lines: [] });
  });
});
