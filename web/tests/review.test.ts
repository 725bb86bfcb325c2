import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseInline, parseMarkdown } from '../src/logic/markdown';
import { buildSubmission, buildUndo, keyAction, keyHelp, type Choice } from '../src/logic/review';

describe('review keys', () => {
  it('maps digits to choices, j/k and arrows to moves, and the command keys', () => {
    assert.deepEqual(keyAction('1'), { kind: 'choose', choice: 'correct' });
    assert.deepEqual(keyAction('4'), { kind: 'choose', choice: 'dont-know' });
    assert.deepEqual(keyAction('0'), { kind: 'choose', choice: 'unreviewed' });
    assert.deepEqual(keyAction('j'), { kind: 'move', by: 1 });
    assert.deepEqual(keyAction('ArrowUp'), { kind: 'move', by: -1 });
    assert.deepEqual(keyAction('Enter'), { kind: 'submit' });
    assert.deepEqual(keyAction('p'), { kind: 'toggle-problematic' });
    assert.deepEqual(keyAction('u'), { kind: 'undo' });
    assert.equal(keyAction('x'), null);
  });

  it('maps zoom, pan, skip and adjudication keys without clashing with the choices', () => {
    assert.deepEqual(keyAction('+'), { kind: 'zoom', by: 'in' });
    assert.deepEqual(keyAction('-'), { kind: 'zoom', by: 'out' });
    assert.deepEqual(keyAction('z'), { kind: 'zoom', by: 'reset' });
    assert.deepEqual(keyAction('0'), { kind: 'choose', choice: 'unreviewed' });
    assert.deepEqual(keyAction('ArrowLeft', { shift: true }), { kind: 'pan', dx: 1, dy: 0 });
    assert.deepEqual(keyAction('ArrowDown', { shift: true }), { kind: 'pan', dx: 0, dy: -1 });
    assert.deepEqual(keyAction('ArrowDown'), { kind: 'move', by: 1 });
    assert.deepEqual(keyAction('s'), { kind: 'skip' });
    // With the skip panel open, digits choose its reason, Enter skips, Escape cancels.
    assert.deepEqual(keyAction('2', { skipping: true }), { kind: 'skip-reason', reason: 'image-wont-load' });
    assert.deepEqual(keyAction('Enter', { skipping: true }), { kind: 'skip-confirm' });
    assert.deepEqual(keyAction('Escape', { skipping: true }), { kind: 'skip-cancel' });
    assert.equal(keyAction('p', { skipping: true }), null);
    // Shift with a choice key adjudicates, for admins only (the key is "@" on a US layout: the code decides).
    assert.deepEqual(keyAction('@', { shift: true, code: 'Digit2', admin: true }), { kind: 'adjudicate', verdict: 'wrong' });
    assert.deepEqual(keyAction(')', { shift: true, code: 'Digit0', admin: true }), { kind: 'adjudicate', verdict: 'unreviewed' });
    assert.equal(keyAction('!', { shift: true, code: 'Digit1', admin: false }), null);
    assert.match(keyHelp(true), /shift\+1\/2\/3 adjudicate/);
    assert.ok(!keyHelp(false).includes('adjudicate'));
    assert.match(keyHelp(false), /s skip.*\+\/− zoom · z reset zoom · shift\+arrows pan/);
  });
});

describe('review submissions', () => {
  const labels = [
    { itemId: 1, version: 3, myVerdict: null },
    { itemId: 2, version: 5, myVerdict: 'wrong' },
  ];
  const flag = { problematic: false, reason: null, version: 2 };

  it('sends a verdict per label and the flag only when it changed', () => {
    const choices = new Map<number, Choice>([[1, 'correct']]);
    const plain = buildSubmission(labels, choices, flag, { problematic: false, reason: null, note: '' }, 3.14);
    assert.deepEqual(plain.verdicts, [
      { itemId: 1, version: 3, verdict: 'correct' },
      { itemId: 2, version: 5, verdict: 'wrong' },
    ]);
    assert.equal(plain.flag, null);
    assert.equal(plain.secondsSpent, 3.1);
    const flagged = buildSubmission(labels, choices, flag, { problematic: true, reason: 'inappropriate', note: '' }, 1);
    assert.deepEqual(flagged.flag, { problematic: true, reason: 'inappropriate', note: '', version: 2 });
  });

  it('undoes a submit by restoring the earlier verdicts at the new versions', () => {
    const sent = buildSubmission(labels, new Map<number, Choice>([[1, 'correct'], [2, 'unclear']]), flag,
      { problematic: true, reason: 'other', note: 'cut off' }, 1);
    const undo = buildUndo(labels, flag, sent, {
      items: [{ itemId: 1, version: 4 }, { itemId: 2, version: 6 }],
      flag: { problematic: true, reason: 'other', version: 3 },
    });
    assert.deepEqual(undo.verdicts, [
      { itemId: 1, version: 4, verdict: 'unreviewed' },
      { itemId: 2, version: 6, verdict: 'wrong' },
    ]);
    assert.deepEqual(undo.flag, { problematic: false, reason: null, note: '', version: 3 });
  });
});

describe('markdown', () => {
  it('parses paragraphs, lists and inline marks', () => {
    assert.deepEqual(parseMarkdown('Tiny, **apple-headed**.\nSee `n02085620`.\n\n- long *coat*\n- [guide](https://example.org/x)'), [
      {
        kind: 'paragraph',
        inlines: [
          { kind: 'text', text: 'Tiny, ' },
          { kind: 'strong', text: 'apple-headed' },
          { kind: 'text', text: '. See ' },
          { kind: 'code', text: 'n02085620' },
          { kind: 'text', text: '.' },
        ],
      },
      {
        kind: 'list',
        items: [
          [{ kind: 'text', text: 'long ' }, { kind: 'em', text: 'coat' }],
          [{ kind: 'link', text: 'guide', href: 'https://example.org/x' }],
        ],
      },
    ]);
  });

  it('keeps markup and unsafe links as plain text', () => {
    assert.deepEqual(parseInline('<img src=x onerror=alert(1)> [x](javascript:alert(1))'), [
      { kind: 'text', text: '<img src=x onerror=alert(1)> [x](javascript:alert(1))' },
    ]);
  });
});
