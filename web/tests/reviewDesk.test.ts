import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  chooseFocused, chooseFor, editFlag, flagProblem, focusItem, initialDesk, keepChoicesAfterConflict, moveFocus, replaceLabels,
  restoreSubmission, showImage, shownChoice, toggleProblematic, type DeskImage,
} from '../src/logic/reviewDesk';

const image = (id: number, problematic = false): DeskImage => ({
  image: { id, fileName: `img_${id}` },
  labels: [
    { itemId: 10 * id + 1, version: 1, myVerdict: null, state: 'pending' },
    { itemId: 10 * id + 2, version: 4, myVerdict: 'wrong', state: 'wrong' },
    { itemId: 10 * id + 3, version: 2, myVerdict: null, state: 'pending' },
  ],
  flag: { problematic, reason: problematic ? 'inappropriate' : null, version: 1 },
});

describe('review desk', () => {
  it('shows an image with no choices, the focus on the first row and the flag as the image has it', () => {
    const desk = showImage(initialDesk(), image(1, true), 100);
    assert.equal(desk.current?.image.id, 1);
    assert.equal(desk.focus, 0);
    assert.equal(desk.choices.size, 0);
    assert.deepEqual(desk.flag, { problematic: true, reason: 'inappropriate', note: '' });
    assert.equal(desk.shownAt, 100);
    assert.equal(desk.empty, false);
    assert.equal(showImage(desk, null, 200).empty, true);
  });

  it('chooses with keys top to bottom, the focus staying on the last row', () => {
    let desk = showImage(initialDesk(), image(1), 0);
    desk = chooseFocused(desk, 'correct');
    desk = chooseFocused(desk, 'unclear');
    desk = chooseFocused(desk, 'wrong');
    desk = chooseFocused(desk, 'dont-know');
    assert.deepEqual([...desk.choices], [[11, 'correct'], [12, 'unclear'], [13, 'dont-know']]);
    assert.equal(desk.focus, 2);
  });

  it('shows the standing verdict until the reviewer chooses, and a click takes the focus', () => {
    let desk = showImage(initialDesk(), image(1), 0);
    const second = desk.current!.labels[1]!;
    assert.equal(shownChoice(desk, second), 'wrong');
    desk = chooseFor(desk, 12, 'correct');
    assert.equal(shownChoice(desk, second), 'correct');
    assert.equal(desk.focus, 1);
    assert.equal(focusItem(desk, 13).focus, 2);
    assert.equal(focusItem(desk, 999).focus, 0);
  });

  it('moves the focus within the rows only', () => {
    const desk = showImage(initialDesk(), image(1), 0);
    assert.equal(moveFocus(desk, -1).focus, 0);
    assert.equal(moveFocus(moveFocus(moveFocus(desk, 1), 1), 1).focus, 2);
    assert.equal(moveFocus(initialDesk(), 1).focus, 0);
  });

  it('toggles the flag with a first reason, and asks for a note for "other"', () => {
    let desk = showImage(initialDesk(), image(1), 0);
    desk = toggleProblematic(desk);
    assert.deepEqual(desk.flag, { problematic: true, reason: 'wrong-original-label', note: '' });
    assert.equal(flagProblem(desk.flag), null);
    desk = editFlag(desk, { reason: 'other' });
    assert.match(flagProblem(desk.flag) ?? '', /needs a note/);
    assert.equal(flagProblem(editFlag(desk, { note: 'cut off' }).flag), null);
    assert.equal(toggleProblematic(desk).flag.problematic, false);
  });

  it('takes fresh labels for the image on screen only, keeping the choices', () => {
    let desk = chooseFor(showImage(initialDesk(), image(1), 0), 11, 'correct');
    const fresh = desk.current!.labels.map((l) => ({ ...l, version: l.version + 1 }));
    desk = replaceLabels(desk, 1, fresh);
    assert.equal(desk.current!.labels[0]!.version, 2);
    assert.equal(desk.choices.get(11), 'correct');
    assert.equal(replaceLabels(desk, 2, []), desk);
  });
});

describe('review desk after a refusal and an undo', () => {
  it('keeps every choice after a 409, takes the fresh versions and marks the items someone else changed', () => {
    let desk = showImage(initialDesk(), image(1), 0);
    desk = chooseFocused(desk, 'correct');
    const fresh: DeskImage = {
      ...image(1),
      labels: [
        { itemId: 11, version: 2, myVerdict: null, state: 'wrong' },
        { itemId: 12, version: 4, myVerdict: 'wrong', state: 'wrong' },
        { itemId: 13, version: 2, myVerdict: null, state: 'pending' },
      ],
    };
    const kept = keepChoicesAfterConflict(desk, fresh);
    assert.equal(kept.current, fresh);
    assert.deepEqual([...kept.changed], [11]);
    assert.deepEqual([...kept.choices], [[11, 'correct'], [12, 'wrong'], [13, 'unreviewed']]);
    // Another image's answer changes nothing; the next image clears the marks.
    assert.equal(keepChoicesAfterConflict(desk, image(2)), desk);
    assert.equal(showImage(kept, image(2), 1).changed.size, 0);
  });

  it('an undo brings back the choices and the flag that were sent, not "unreviewed"', () => {
    const desk = showImage(initialDesk(), image(1), 0);
    const restored = restoreSubmission(desk, {
      verdicts: [{ itemId: 11, version: 1, verdict: 'correct' }, { itemId: 12, version: 4, verdict: 'unclear' }],
      flag: { problematic: true, reason: 'inappropriate', note: 'x', version: 1 },
      secondsSpent: 3,
    });
    assert.equal(shownChoice(restored, restored.current!.labels[0]!), 'correct');
    assert.equal(shownChoice(restored, restored.current!.labels[1]!), 'unclear');
    assert.equal(shownChoice(restored, restored.current!.labels[2]!), 'unreviewed');
    assert.deepEqual(restored.flag, { problematic: true, reason: 'inappropriate', note: 'x' });
    assert.deepEqual(restoreSubmission(desk, { verdicts: [], flag: null, secondsSpent: 0 }).flag, desk.flag);
  });
});
