import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inverseNormalCdf, normalCdf } from '../src/logic/normal';
import {
  bandMiddle, describeFit, fitSegment, fromSpace, placeLabels, plotDomain, predict, spaceScale, spaceTicks, tickLabel, toSpace, type Fit,
} from '../src/logic/shiftPlot';

const close = (actual: number, expected: number, tolerance: number, what = ''): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what} ${actual} is not within ${tolerance} of ${expected}`);

test('the inverse normal CDF matches published quantiles', () => {
  // Quantiles of the standard normal from Wichura's AS 241 (Python's statistics.NormalDist.inv_cdf), to 16 digits.
  const quantiles: [number, number][] = [
    [0.5, 0], [0.975, 1.959963984540054], [0.025, -1.959963984540054], [0.9, 1.2815515655446004], [0.3, -0.5244005127080407],
    [0.01, -2.3263478740408408], [0.99, 2.3263478740408408], [1e-4, -3.719016485455709], [0.9999, 3.719016485455709],
    [0.02425, -1.9729610513118845], [0.841344746068543, 1],
  ];
  for (const [p, z] of quantiles) close(inverseNormalCdf(p), z, 1e-9, `Φ⁻¹(${p})`);
  assert.equal(inverseNormalCdf(0), -Infinity);
  assert.equal(inverseNormalCdf(1), Infinity);
  assert.ok(Number.isNaN(inverseNormalCdf(1.5)));
});

test('the normal CDF matches published values and inverts the quantile function', () => {
  close(normalCdf(0), 0.5, 1e-15);
  close(normalCdf(1), 0.8413447460685429, 1e-14);
  close(normalCdf(-1), 0.15865525393145707, 1e-14);
  close(normalCdf(3), 0.9986501019683699, 1e-14);
  close(normalCdf(-8), 6.22096057427178e-16, 1e-20);
  for (const p of [1e-6, 0.001, 0.2, 0.5, 0.77, 0.999]) close(normalCdf(inverseNormalCdf(p)), p, 1e-12 + p * 1e-9, `Φ(Φ⁻¹(${p}))`);
});

test('the spaces transform accuracies as the API does, clamping 0 and 1', () => {
  close(toSpace('logit', 0.5), 0, 1e-15);
  close(toSpace('logit', 0.9), Math.log(9), 1e-12);
  close(toSpace('logit', 1), Math.log((1 - 1e-4) / 1e-4), 1e-9);
  close(toSpace('probit', 0.975), 1.959963984540054, 1e-9);
  assert.equal(toSpace('linear', 0.37), 0.37);
  for (const space of ['logit', 'probit', 'linear'] as const) close(fromSpace(space, toSpace(space, 0.83)), 0.83, 1e-12, space);
});

test('an axis is linear in the space: equal steps in logit are equal steps in pixels', () => {
  const sx = spaceScale('logit', [0.5, 0.9], 0, 100);
  close(sx(0.5), 0, 1e-9);
  close(sx(0.9), 100, 1e-9);
  // logit(0.75) = ln 3 is half of logit(0.9) = ln 9.
  close(sx(0.75), 50, 1e-9);
  const sy = spaceScale('linear', [0, 1], 400, 0);
  close(sy(0.25), 300, 1e-9);
});

test('the fit is a straight line in its space and predicts f⁻¹(slope f(x) + intercept)', () => {
  const fit: Fit = { space: 'logit', on: 'model', slope: 1.2, intercept: -0.5, r: 0.99, points: 5 };
  close(predict(fit, 0.8), 1 / (1 + Math.exp(-(1.2 * Math.log(4) - 0.5))), 1e-12);
  const s = fitSegment(fit, 0.6, 0.95);
  const sx = spaceScale('logit', [0.6, 0.95], 0, 1);
  // The midpoint in pixels of the segment lies on the fit: straight in the scaled space.
  const midX = (sx(s.x1) + sx(s.x2)) / 2;
  const x = fromSpace('logit', toSpace('logit', 0.6) + midX * (toSpace('logit', 0.95) - toSpace('logit', 0.6)));
  close((sx(s.y1) + sx(s.y2)) / 2, sx(predict(fit, x)), 1e-9);
  const probit: Fit = { ...fit, space: 'probit' };
  close(predict(probit, 0.8), normalCdf(1.2 * inverseNormalCdf(0.8) - 0.5), 1e-12);
});

test('the plot domain pads linear values to 5 % steps and logit values in the space', () => {
  assert.deepEqual(plotDomain([0.71, 0.93]), [0.65, 0.95]);
  assert.deepEqual(plotDomain([]), [0, 1]);
  const [lo, hi] = plotDomain([0.6, 0.99], 'logit');
  assert.ok(lo < 0.6 && hi > 0.99 && hi < 1, `${lo} ${hi}`);
});

test('ticks are nice percents, spread over the axis, labelled in percent', () => {
  assert.deepEqual(spaceTicks('linear', 0.65, 0.95).map(tickLabel), ['65', '70', '75', '80', '85', '90', '95']);
  const logit = spaceTicks('logit', 0.5, 0.995);
  assert.ok(logit.includes(0.5) && logit.includes(0.9) && logit.includes(0.99), logit.join(','));
  // No two ticks closer than an eighth of the axis in the space.
  const ts = logit.map((t) => toSpace('logit', t));
  const gap = (toSpace('logit', 0.995) - toSpace('logit', 0.5)) / 8;
  for (let i = 1; i < ts.length; i++) assert.ok(ts[i]! - ts[i - 1]! >= gap * 0.999);
  // Only nice percents on a wide axis; whole percents on a narrow one.
  assert.deepEqual(spaceTicks('probit', 0.34, 0.87).map(tickLabel), ['40', '50', '60', '70', '80', '85']);
  assert.deepEqual(spaceTicks('linear', 0.81, 0.84).map(tickLabel), ['81', '82', '83', '84']);
  assert.equal(tickLabel(0.995), '99.5');
  assert.equal(tickLabel(0.001), '0.1');
});

test('the fit in words names the space, the group, the equation and a prediction', () => {
  const fit: Fit = { space: 'logit', on: 'non-human', slope: 1.0435, intercept: -0.41023, r: 0.9957, points: 4 };
  const text = describeFit(fit, { original: 'demo-val', shifted: 'demo-v2', on: 'non-human' }, 0.8);
  assert.match(text, /in logit space over 4 of every uploaded entry that is not a human/);
  assert.match(text, /logit\(shifted\) = 1\.044 × logit\(original\) − 0\.410 \(r = 0\.996\)/);
  assert.match(text, new RegExp(`At 80\\.0 % on demo-val it expects ${(predict(fit, 0.8) * 100).toFixed(1)} % on demo-v2`));
  assert.match(describeFit({ ...fit, space: 'linear', intercept: 0.1 }, { original: 'a', shifted: 'b', on: 'model' }), /shifted = 1\.044 × original \+ 0\.100/);
  assert.match(describeFit(null, { original: 'a', shifted: 'b', on: 'model' }), /^No fit: fewer than two of the entries of kind model/);
  assert.equal(bandMiddle([{ x: 0.5 }, { x: 0.6 }, { x: 0.7 }]), 0.6);
  assert.equal(bandMiddle([]), undefined);
});

test('labels that would overlap move down a line; the others stay', () => {
  const ys = placeLabels([{ x: 0, y: 100, width: 50 }, { x: 10, y: 105, width: 50 }, { x: 200, y: 100, width: 50 }], 12);
  assert.deepEqual(ys, [100, 117, 100]);
  assert.deepEqual(placeLabels([], 12), []);
});
