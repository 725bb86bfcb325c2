import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareSummary, countWithShare, metricName, reasonsText, roleName } from '../src/logic/compare';

test('a comparison in one sentence', () => {
  const c = { metric: 'multilabel', images: 1487, difference: 0.04438, lower: 0.01706, upper: 0.07161, pValue: 0.00173, significant: true };
  assert.equal(compareSummary(c, 'ResNet-50', 'VGG-16'),
    'On 1,487 images, ResNet-50 is 4.44 points above VGG-16 in multi-label accuracy (95 % interval of the difference [1.7, 7.2]; McNemar p = 0.002): significant at 5 %.');
  const below = compareSummary({ ...c, metric: 'top5', difference: -0.0027, lower: -0.01, upper: 0.005, pValue: 0.6, significant: false }, 'a', 'b');
  assert.match(below, /a is 0\.27 points below b in top-5 accuracy .*: not significant at 5 %\.$/);
  assert.match(compareSummary({ ...c, difference: null }, 'a', 'b'), /no images in common/);
});

test('names, reasons and shares', () => {
  assert.equal(metricName('real'), 'ReaL accuracy');
  assert.equal(metricName('other'), 'other');
  assert.equal(reasonsText({ other: 5, 'drawing-or-render': 8, none: 0 }), 'drawing-or-render 8 · other 5');
  assert.equal(reasonsText({}), '–');
  assert.equal(countWithShare(108, 1250), '108 (8.6 %)');
  assert.equal(countWithShare(3, 0), '3');
  assert.equal(roleName('best-model'), 'best model');
});
