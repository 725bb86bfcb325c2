import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SCALE, NO_ZOOM, pan, transformOf, zoomAt, zoomCentre } from '../src/logic/zoom';

const frame = { width: 400, height: 300 };

describe('image zoom and pan', () => {
  it('zooms at the cursor keeping the image point under it in place', () => {
    const zoomed = zoomAt(NO_ZOOM, 2, 100, 50, frame);
    assert.deepEqual(zoomed, { scale: 2, x: -100, y: -50 });
    // The image point under the cursor is the same before and after: (c − t) / s.
    const before = { x: (100 - NO_ZOOM.x) / NO_ZOOM.scale, y: (50 - NO_ZOOM.y) / NO_ZOOM.scale };
    const after = { x: (100 - zoomed.x) / zoomed.scale, y: (50 - zoomed.y) / zoomed.scale };
    assert.deepEqual(after, before);
    // Twice at another point: the point under that cursor stays too.
    const again = zoomAt(zoomed, 1.5, 300, 200, frame);
    assert.equal(again.scale, 3);
    assert.ok(Math.abs((300 - again.x) / again.scale - (300 - zoomed.x) / zoomed.scale) < 1e-9);
    assert.ok(Math.abs((200 - again.y) / again.scale - (200 - zoomed.y) / zoomed.scale) < 1e-9);
  });

  it('never zooms out below the whole image nor past the largest scale', () => {
    assert.deepEqual(zoomAt(NO_ZOOM, 0.5, 10, 10, frame), NO_ZOOM);
    let zoom = NO_ZOOM;
    for (let i = 0; i < 30; i++) zoom = zoomCentre(zoom, 1.25, frame);
    assert.equal(zoom.scale, MAX_SCALE);
    // Zooming out again all the way is the unzoomed image, at its place.
    for (let i = 0; i < 30; i++) zoom = zoomCentre(zoom, 0.8, frame);
    assert.deepEqual(zoom, NO_ZOOM);
  });

  it('pans within the image: its edges never move inside the frame', () => {
    const zoomed = zoomCentre(NO_ZOOM, 2, frame);
    assert.deepEqual(zoomed, { scale: 2, x: -200, y: -150 });
    assert.deepEqual(pan(zoomed, 50, -20, frame), { scale: 2, x: -150, y: -170 });
    assert.deepEqual(pan(zoomed, 1000, 1000, frame), { scale: 2, x: 0, y: 0 });
    assert.deepEqual(pan(zoomed, -1000, -1000, frame), { scale: 2, x: -400, y: -300 });
    // Unzoomed, there is nothing to pan.
    assert.deepEqual(pan(NO_ZOOM, 30, 30, frame), NO_ZOOM);
  });

  it('draws as a CSS transform, none when unzoomed', () => {
    assert.equal(transformOf(NO_ZOOM), '');
    assert.equal(transformOf({ scale: 2, x: -200, y: -150 }), 'translate(-200px, -150px) scale(2)');
  });
});
