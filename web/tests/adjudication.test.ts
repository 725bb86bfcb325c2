import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADJUDICATIONS, itemVerdicts, parseMode, verdictsLine, type VerdictHistoryEvent } from '../src/logic/adjudication';

describe('review modes', () => {
  it('reads the three queues and falls back to pending', () => {
    assert.equal(parseMode('conflicts'), 'conflicts');
    assert.equal(parseMode('problematic'), 'problematic');
    assert.equal(parseMode('pending'), 'pending');
    assert.equal(parseMode(null), 'pending');
    assert.equal(parseMode('Conflicts'), 'pending');
    assert.equal(parseMode('everything'), 'pending');
  });

  it('offers the three adjudications and a withdrawal', () => {
    assert.deepEqual(ADJUDICATIONS.map((a) => a.value), ['correct', 'wrong', 'unclear', 'unreviewed']);
  });
});

describe('item verdicts from an image history', () => {
  const verdict = (id: number, itemId: number, author: string, value: string, adjudication = false): VerdictHistoryEvent => ({
    id,
    kind: 'verdict',
    author,
    itemId,
    verdict: value,
    adjudication,
  });

  it("keeps each author's latest verdict in the order given, and drops withdrawn ones", () => {
    const events = [
      verdict(1, 10, 'ann', 'correct'),
      verdict(2, 10, 'bob', 'correct'),
      verdict(3, 11, 'ann', 'wrong'),
      verdict(4, 10, 'bob', 'wrong'),
      verdict(5, 10, 'cy', 'dont-know'),
      verdict(6, 11, 'ann', 'unreviewed'),
    ];
    const items = itemVerdicts(events);
    assert.deepEqual(items.get(10), {
      verdicts: [
        { author: 'ann', verdict: 'correct' },
        { author: 'bob', verdict: 'wrong' },
        { author: 'cy', verdict: 'dont-know' },
      ],
      adjudication: null,
    });
    assert.deepEqual(items.get(11), { verdicts: [], adjudication: null });
    assert.equal(items.get(12), undefined);
  });

  it('reads events in id order whatever order they come in, and skips flag events', () => {
    const events: VerdictHistoryEvent[] = [
      verdict(9, 10, 'ann', 'wrong'),
      { id: 8, kind: 'flag', author: 'ann', itemId: null, verdict: null, adjudication: false },
      verdict(3, 10, 'ann', 'correct'),
    ];
    assert.deepEqual(itemVerdicts(events).get(10)?.verdicts, [{ author: 'ann', verdict: 'wrong' }]);
    assert.equal(itemVerdicts(events).size, 1);
  });

  it('takes the latest adjudication, which a withdrawal clears, apart from the reviewers', () => {
    const adjudicated = [verdict(1, 10, 'ann', 'correct'), verdict(2, 10, 'bob', 'wrong'), verdict(3, 10, 'admin', 'wrong', true)];
    assert.deepEqual(itemVerdicts(adjudicated).get(10)?.adjudication, { author: 'admin', verdict: 'wrong' });
    assert.equal(itemVerdicts(adjudicated).get(10)?.verdicts.length, 2);

    const changed = [...adjudicated, verdict(4, 10, 'root', 'unclear', true)];
    assert.deepEqual(itemVerdicts(changed).get(10)?.adjudication, { author: 'root', verdict: 'unclear' });

    const withdrawn = [...changed, verdict(5, 10, 'admin', 'unreviewed', true)];
    assert.equal(itemVerdicts(withdrawn).get(10)?.adjudication, null);
    assert.equal(itemVerdicts(withdrawn).get(10)?.verdicts.length, 2);
  });

  it('an adjudicator who also reviewed keeps their own review verdict', () => {
    const events = [verdict(1, 10, 'admin', 'correct'), verdict(2, 10, 'admin', 'wrong', true)];
    assert.deepEqual(itemVerdicts(events).get(10), {
      verdicts: [{ author: 'admin', verdict: 'correct' }],
      adjudication: { author: 'admin', verdict: 'wrong' },
    });
  });
});

describe('verdicts line', () => {
  it('names each author and their verdict', () => {
    assert.equal(verdictsLine([]), '');
    assert.equal(
      verdictsLine([
        { author: 'ann', verdict: 'correct' },
        { author: 'bob', verdict: 'dont-know' },
      ]),
      "ann: correct · bob: don't know",
    );
  });
});
