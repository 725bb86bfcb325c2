import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { emptyQueueReason, estimateSecondsLeft, formatDuration, medianSeconds, remainingImages, sessionLine } from '../src/logic/reviewSession';

const counts = (pendingImages: number, conflictImages: number, items = 100) => ({ pendingImages, conflictImages, items });

describe('review session', () => {
  it('takes the median of the seconds per image, so one long pause does not skew the pace', () => {
    assert.equal(medianSeconds([]), null);
    assert.equal(medianSeconds([7]), 7);
    assert.equal(medianSeconds([10, 2, 600]), 10);
    assert.equal(medianSeconds([4, 10, 2, 600]), 7);
  });

  it('estimates the time left as remaining images times the median pace', () => {
    assert.equal(estimateSecondsLeft(40, [10, 2, 600]), 400);
    assert.equal(estimateSecondsLeft(0, [10]), 0);
    assert.equal(estimateSecondsLeft(40, []), null);
    assert.equal(estimateSecondsLeft(null, [10]), null);
  });

  it('says durations in seconds, minutes and hours', () => {
    assert.equal(formatDuration(45), '45 s');
    assert.equal(formatDuration(400), '7 min');
    assert.equal(formatDuration(3600), '1 h');
    assert.equal(formatDuration(12_000), '3 h 20 min');
  });

  it('counts the chosen queue: pending and conflict images; the problematic queue has no count', () => {
    assert.equal(remainingImages('pending', counts(12, 3)), 12);
    assert.equal(remainingImages('conflicts', counts(12, 3)), 3);
    assert.equal(remainingImages('problematic', counts(12, 3)), null);
    assert.equal(remainingImages('pending', null), null);
  });

  it('writes the session line with the count and, once there is a pace, the time left', () => {
    assert.equal(sessionLine(0, 40, []), 'this session: 0 images · 40 images left');
    assert.equal(sessionLine(3, 40, [10, 2, 600]), 'this session: 3 images · about 7 min left for 40 images');
    assert.equal(sessionLine(1, 1, [30]), 'this session: 1 image · about 30 s left for 1 image');
    assert.equal(sessionLine(2, null, [5, 6]), 'this session: 2 images');
  });

  it('says why a queue is empty', () => {
    assert.match(emptyQueueReason('conflicts', 'latest', counts(5, 0), 0), /^Conflicts only arise under an agreement rule; this dataset decides by the latest verdict\./);
    assert.match(emptyQueueReason('conflicts', 'majority', counts(5, 0), 0), /decides by the "majority" rule/);
    assert.match(emptyQueueReason('conflicts', 'agreement:2', counts(5, 0), 0), /^No conflicts: every label/);
    assert.match(emptyQueueReason('conflicts', 'agreement:2', counts(5, 2), 0), /^No conflicts left for you here/);
    assert.equal(emptyQueueReason('pending', 'latest', counts(0, 0), 0), 'Every candidate label of this dataset has a verdict. Thank you!');
    assert.match(emptyQueueReason('pending', 'latest', counts(4, 0), 2), /reserved by other reviewers.* You skipped 2 images this session/);
    assert.match(emptyQueueReason('pending', 'latest', counts(0, 0, 0), 0), /no candidate labels yet.*Upload predictions/);
    assert.match(emptyQueueReason('problematic', 'latest', counts(0, 0), 0), /flagged problematic/);
  });
});
