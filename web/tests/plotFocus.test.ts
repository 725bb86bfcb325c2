import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyboardOrder, pointLabel, stepIndex, tooltipPosition } from '../src/logic/plotFocus';

test('the arrow keys walk the marks left to right, ties bottom to top', () => {
  const points = [
    { slug: 'c', name: 'C', x: 0.9, y: 0.8 },
    { slug: 'a', name: 'A', x: 0.5, y: 0.6 },
    { slug: 'b', name: 'B', x: 0.5, y: 0.4 },
  ];
  assert.deepEqual(keyboardOrder(points), ['b', 'a', 'c']);
});

test('a key steps one mark and stops at the ends; Home and End jump; other keys are not the plot\'s', () => {
  assert.equal(stepIndex(3, 0, 'ArrowRight'), 1);
  assert.equal(stepIndex(3, 2, 'ArrowRight'), 2);
  assert.equal(stepIndex(3, 0, 'ArrowLeft'), 0);
  assert.equal(stepIndex(3, 1, 'ArrowDown'), 0);
  assert.equal(stepIndex(3, 1, 'ArrowUp'), 2);
  assert.equal(stepIndex(3, 1, 'Home'), 0);
  assert.equal(stepIndex(3, 0, 'End'), 2);
  assert.equal(stepIndex(3, 0, 'Tab'), null);
  assert.equal(stepIndex(0, 0, 'ArrowRight'), null);
});

test('the tooltip sits beside the pointer and never leaves the plot area', () => {
  const area = { left: 50, top: 10, right: 550, bottom: 410 };
  const size = { width: 120, height: 40 };
  assert.deepEqual(tooltipPosition({ x: 100, y: 100 }, size, area), { left: 112, top: 112 });
  // Near the right edge it flips to the left of the pointer, near the bottom above it.
  assert.deepEqual(tooltipPosition({ x: 500, y: 400 }, size, area), { left: 368, top: 348 });
  // Bigger than the room on either side: clamped inside.
  assert.deepEqual(tooltipPosition({ x: 60, y: 20 }, { width: 480, height: 30 }, area), { left: 50, top: 32 });
  const placed = tooltipPosition({ x: 549, y: 11 }, size, area);
  assert.ok(placed.left >= area.left && placed.left + size.width <= area.right);
  assert.ok(placed.top >= area.top && placed.top + size.height <= area.bottom);
});

test('a focused mark is announced by its name and both accuracies', () => {
  assert.equal(pointLabel({ slug: 'r', name: 'ResNet-50', x: 0.7855, y: 0.661 }), 'ResNet-50: x 78.55 %, y 66.10 %');
  assert.equal(pointLabel({ slug: 'r', name: 'R', x: 0.5, y: 0.5, robustness: 0.012 }), 'R: x 50.00 %, y 50.00 %, effective robustness +1.20 points');
});
