import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hrefs, imageFileUrl, isAppPath, matchRoute, navSection, safeNext } from '../src/logic/routes';

describe('matchRoute', () => {
  it('shows the leaderboard at / and /leaderboard', () => {
    assert.deepEqual(matchRoute('/'), { page: 'leaderboard' });
    assert.deepEqual(matchRoute(''), { page: 'leaderboard' });
    assert.deepEqual(matchRoute('/leaderboard'), { page: 'leaderboard' });
    assert.deepEqual(matchRoute('/leaderboard/'), { page: 'leaderboard' });
  });

  it('matches the review, browse and sign-in pages', () => {
    assert.deepEqual(matchRoute('/review'), { page: 'review' });
    assert.deepEqual(matchRoute('/browse'), { page: 'browse' });
    assert.deepEqual(matchRoute('/browse/'), { page: 'browse' });
    assert.deepEqual(matchRoute('/sign-in'), { page: 'sign-in', next: null });
    assert.deepEqual(matchRoute('/account'), { page: 'account' });
    assert.deepEqual(matchRoute('/account/x'), { page: 'not-found', path: '/account/x' });
  });

  it('reads the dataset, subset and search text of a dataset page', () => {
    assert.deepEqual(matchRoute('/browse/ilsvrc2012'), { page: 'dataset', dataset: 'ilsvrc2012', subset: null, q: '' });
    assert.deepEqual(matchRoute('/browse/ilsvrc2012?subset=dogs&q=golden%20ret'), {
      page: 'dataset',
      dataset: 'ilsvrc2012',
      subset: 'dogs',
      q: 'golden ret',
    });
    assert.deepEqual(matchRoute('/browse/ilsvrc2012?subset=#top'), { page: 'dataset', dataset: 'ilsvrc2012', subset: null, q: '' });
  });

  it('matches a class page and decodes its segments', () => {
    assert.deepEqual(matchRoute('/browse/ilsvrc2012/classes/n01440764'), { page: 'class', dataset: 'ilsvrc2012', wnid: 'n01440764' });
    assert.deepEqual(matchRoute('/browse/my%20set/classes/n01440764/'), { page: 'class', dataset: 'my set', wnid: 'n01440764' });
  });

  it('matches the submit page and model pages', () => {
    assert.deepEqual(matchRoute('/submit'), { page: 'submit' });
    assert.deepEqual(matchRoute('/models/resnet50'), { page: 'model', slug: 'resnet50', dataset: null });
    assert.deepEqual(matchRoute(hrefs.model('vit l/16')), { page: 'model', slug: 'vit l/16', dataset: null });
    assert.equal(matchRoute('/models').page, 'not-found');
    assert.equal(matchRoute('/models/a/b').page, 'not-found');
    assert.equal(navSection({ page: 'model', slug: 'x', dataset: null }), 'leaderboard');
  });

  it('matches an image page with a positive integer id only', () => {
    assert.deepEqual(matchRoute('/images/42'), { page: 'image', id: 42 });
    assert.equal(matchRoute('/images/0').page, 'not-found');
    assert.equal(matchRoute('/images/-1').page, 'not-found');
    assert.equal(matchRoute('/images/4x').page, 'not-found');
    assert.equal(matchRoute('/images/99999999999999999').page, 'not-found');
    assert.equal(matchRoute('/images').page, 'not-found');
  });

  it('reports unknown and malformed paths as not found', () => {
    assert.deepEqual(matchRoute('/nowhere'), { page: 'not-found', path: '/nowhere' });
    assert.equal(matchRoute('/browse/x/classes').page, 'not-found');
    assert.equal(matchRoute('/browse/x/images/n1').page, 'not-found');
    assert.equal(matchRoute('/browse/x/classes/n1/extra').page, 'not-found');
    assert.equal(matchRoute('/review/more').page, 'not-found');
    assert.equal(matchRoute('/browse/%E0%A4%A').page, 'not-found');
  });

  it('only follows local "next" paths after sign-in', () => {
    assert.deepEqual(matchRoute('/sign-in?next=%2Fbrowse%2Fx'), { page: 'sign-in', next: '/browse/x' });
    assert.deepEqual(matchRoute('/sign-in?next=https%3A%2F%2Fevil.example'), { page: 'sign-in', next: null });
    assert.deepEqual(matchRoute('/sign-in?next=%2F%2Fevil.example'), { page: 'sign-in', next: null });
  });
});

describe('safeNext and isAppPath', () => {
  it('accepts local SPA paths only', () => {
    assert.equal(safeNext('/images/3'), '/images/3');
    assert.equal(safeNext('/browse/x?subset=dogs'), '/browse/x?subset=dogs');
    assert.equal(safeNext(null), null);
    assert.equal(safeNext('browse'), null);
    assert.equal(safeNext('//evil.example/'), null);
    assert.equal(safeNext('/\\evil.example/'), null);
    assert.equal(safeNext('/api/auth/me'), null);
  });

  it('leaves /api and /swagger to the server', () => {
    assert.equal(isAppPath('/browse'), true);
    assert.equal(isAppPath('/'), true);
    assert.equal(isAppPath('/apiary'), true);
    assert.equal(isAppPath('/api'), false);
    assert.equal(isAppPath('/api/images/1/file'), false);
    assert.equal(isAppPath('/swagger/index.html'), false);
  });
});

describe('hrefs', () => {
  it('builds paths that match back to their routes', () => {
    assert.equal(hrefs.dataset('ilsvrc2012'), '/browse/ilsvrc2012');
    assert.equal(hrefs.dataset('ilsvrc2012', { subset: 'all', q: '  ' }), '/browse/ilsvrc2012');
    assert.equal(hrefs.dataset('ilsvrc2012', { subset: 'dogs', q: 'golden ret' }), '/browse/ilsvrc2012?subset=dogs&q=golden+ret');
    assert.deepEqual(matchRoute(hrefs.dataset('ilsvrc2012', { subset: 'dogs', q: 'golden ret' })), {
      page: 'dataset',
      dataset: 'ilsvrc2012',
      subset: 'dogs',
      q: 'golden ret',
    });
    assert.deepEqual(matchRoute(hrefs.class('a/b', 'n0?1')), { page: 'class', dataset: 'a/b', wnid: 'n0?1' });
    assert.deepEqual(matchRoute(hrefs.image(7)), { page: 'image', id: 7 });
    assert.equal(imageFileUrl(7), '/api/images/7/file');
  });

  it('builds review queue addresses, leaving out the default mode', () => {
    assert.equal(hrefs.reviewQueue('demo-val'), '/review?dataset=demo-val');
    assert.equal(hrefs.reviewQueue('demo-val', { subset: null, mode: 'pending' }), '/review?dataset=demo-val');
    assert.equal(hrefs.reviewQueue('a&b', { subset: 'dogs', mode: 'conflicts' }), '/review?dataset=a%26b&subset=dogs&mode=conflicts');
    assert.deepEqual(matchRoute(hrefs.reviewQueue('demo-val', { mode: 'problematic' })), { page: 'review' });
  });

  it('carries a safe return path to the sign-in page', () => {
    assert.equal(hrefs.signIn(), '/sign-in');
    assert.equal(hrefs.signIn('/images/7'), '/sign-in?next=%2Fimages%2F7');
    assert.equal(hrefs.signIn('https://evil.example'), '/sign-in');
    assert.equal(hrefs.signIn('/sign-in'), '/sign-in');
    assert.deepEqual(matchRoute(hrefs.signIn('/browse/x?subset=dogs')), { page: 'sign-in', next: '/browse/x?subset=dogs' });
  });
});

describe('navSection', () => {
  it('puts dataset, class and image pages under Browse', () => {
    assert.equal(navSection(matchRoute('/')), 'leaderboard');
    assert.equal(navSection(matchRoute('/review')), 'review');
    assert.equal(navSection(matchRoute('/sign-in')), 'sign-in');
    assert.equal(navSection(matchRoute('/browse/x')), 'browse');
    assert.equal(navSection(matchRoute('/browse/x/classes/n1')), 'browse');
    assert.equal(navSection(matchRoute('/images/1')), 'browse');
    assert.equal(navSection(matchRoute('/nope')), null);
  });
});

describe('labeling routes', () => {
  it('matches the task list and a task', () => {
    assert.deepEqual(matchRoute('/labeling'), { page: 'labeling' });
    assert.deepEqual(matchRoute('/labeling/12'), { page: 'labeling-task', id: 12 });
    assert.deepEqual(matchRoute('/labeling/x'), { page: 'not-found', path: '/labeling/x' });
    assert.equal(navSection(matchRoute('/labeling/3')), 'labeling');
    assert.equal(hrefs.labelingTask(3), '/labeling/3');
  });
});

describe('issue 15 routes', () => {
  it('reads the compare page from its address and builds it back', () => {
    const href = hrefs.compare('demo-val', 'demo-resnet50', 'demo-vgg16', { subset: 'dogs', imageSet: 'annotated', unclear: 'correct' });
    assert.equal(href, '/compare?dataset=demo-val&a=demo-resnet50&b=demo-vgg16&subset=dogs&imageSet=annotated&unclear=correct');
    assert.deepEqual(matchRoute(href), {
      page: 'compare', dataset: 'demo-val', a: 'demo-resnet50', b: 'demo-vgg16', subset: 'dogs', imageSet: 'annotated', unclear: 'correct',
    });
    assert.equal(hrefs.compare('d', 'a', null, { subset: 'all', unclear: 'wrong' }), '/compare?dataset=d&a=a');
    assert.equal(navSection(matchRoute('/compare')), 'leaderboard');
  });

  it('reads the paper page with its fit, defaulting to logit on models', () => {
    assert.deepEqual(matchRoute('/paper'), { page: 'paper', dataset: null, imageSet: null, fit: 'logit', fitOn: 'model' });
    const href = hrefs.paper('demo-val', { imageSet: 'all', fit: 'probit', fitOn: 'non-human' });
    assert.deepEqual(matchRoute(href), { page: 'paper', dataset: 'demo-val', imageSet: 'all', fit: 'probit', fitOn: 'non-human' });
    assert.equal(matchRoute('/paper?fit=cubic').page === 'paper' && (matchRoute('/paper?fit=cubic') as { fit: string }).fit, 'logit');
    assert.equal(hrefs.paper(null), '/paper');
  });

  it('reads a dataset statistics page and the scope of hard images', () => {
    assert.deepEqual(matchRoute(hrefs.datasetStatistics('demo val', 'annotated')), { page: 'dataset-statistics', dataset: 'demo val', imageSet: 'annotated' });
    assert.equal(matchRoute('/datasets/x').page, 'not-found');
    assert.equal(matchRoute('/datasets/x/statistics/y').page, 'not-found');
    assert.equal(navSection({ page: 'dataset-statistics', dataset: 'x', imageSet: null }), 'browse');
    assert.deepEqual(matchRoute(hrefs.hardImages('demo-val', 'humans', 'annotated')), { page: 'hard-images', dataset: 'demo-val', by: 'humans', imageSet: 'annotated' });
  });
});
