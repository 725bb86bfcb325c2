import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boardViewHref, DEFAULT_BOARD_VIEW, parseBoardView, type BoardView } from '../src/logic/boardView';

test('the default view is the bare address, and the bare address the default view', () => {
  assert.equal(boardViewHref(DEFAULT_BOARD_VIEW), '/leaderboard');
  assert.deepEqual(parseBoardView(''), DEFAULT_BOARD_VIEW);
});

test('every control survives the round trip through the address', () => {
  const view: BoardView = {
    dataset: 'imagenet-val', subset: 'dogs', imageSet: 'annotated', version: 0, average: 'per-class', unclear: 'correct', fit: 'linear',
    fitOn: 'non-human', sort: 'subset:dogs', descending: false, text: 'res net', kinds: ['model', 'human'], picked: ['a', 'b'],
  };
  const href = boardViewHref(view);
  assert.equal(
    href,
    '/leaderboard?dataset=imagenet-val&subset=dogs&imageSet=annotated&version=0&average=per-class&unclear=correct&fit=linear&fitOn=non-human' +
      '&sort=subset%3Adogs&dir=asc&q=res+net&kinds=model%2Chuman&pick=a%2Cb',
  );
  assert.deepEqual(parseBoardView(href.slice(href.indexOf('?'))), view);
});

test('a column sorts in its natural direction unless the address says otherwise', () => {
  assert.equal(parseBoardView('?sort=top1').descending, true);
  assert.equal(parseBoardView('?sort=name').descending, false);
  assert.equal(boardViewHref({ ...DEFAULT_BOARD_VIEW, sort: 'top1', descending: true }), '/leaderboard?sort=top1');
  assert.equal(boardViewHref({ ...DEFAULT_BOARD_VIEW, descending: true }), '/leaderboard?dir=desc');
});

test('unknown values fall back to defaults; no kind shown is kept', () => {
  const view = parseBoardView('?sort=bogus&fit=curvy&average=x&unclear=y&fitOn=z&kinds=&pick=a,b,c&version=-1');
  assert.equal(view.version, null);
  assert.equal(parseBoardView('?version=07').version, null);
  assert.equal(parseBoardView('?version=12').version, 12);
  assert.equal(view.sort, 'rank');
  assert.equal(view.fit, 'logit');
  assert.equal(view.average, 'micro');
  assert.equal(view.unclear, 'wrong');
  assert.equal(view.fitOn, 'model');
  assert.deepEqual(view.kinds, []);
  assert.deepEqual(view.picked, ['a', 'b']);
  assert.equal(boardViewHref({ ...DEFAULT_BOARD_VIEW, kinds: [] }), '/leaderboard?kinds=');
});
