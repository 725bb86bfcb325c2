import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { countOf, formatBytes, formatCount, pageTitle } from '../src/logic/format';
import { hasRole } from '../src/logic/roles';
import { buildApiUrl } from '../src/logic/url';

describe('format', () => {
  it('groups thousands and picks singular or plural', () => {
    assert.equal(formatCount(1281167), '1,281,167');
    assert.equal(countOf(1, 'class', 'classes'), '1 class');
    assert.equal(countOf(0, 'image', 'images'), '0 images');
    assert.equal(countOf(1000, 'class', 'classes'), '1,000 classes');
  });

  it('formats byte sizes', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(2048), '2.0 KiB');
    assert.equal(formatBytes(5 * 1024 * 1024), '5.0 MiB');
  });

  it('titles pages', () => {
    assert.equal(pageTitle('tench', 'ILSVRC-2012'), 'tench · ILSVRC-2012 · Relabel');
    assert.equal(pageTitle(), 'Relabel');
  });
});

describe('hasRole', () => {
  it('lets admins act as every role', () => {
    assert.equal(hasRole(['reviewer'], 'reviewer'), true);
    assert.equal(hasRole(['admin'], 'reviewer'), true);
    assert.equal(hasRole(['uploader'], 'reviewer'), false);
    assert.equal(hasRole([], 'uploader'), false);
  });
});

describe('buildApiUrl', () => {
  it('fills and encodes path parameters', () => {
    assert.equal(buildApiUrl('/api/datasets/{slug}/classes', { slug: 'a b/c' }), '/api/datasets/a%20b%2Fc/classes');
    assert.equal(buildApiUrl('/api/images/{id}', { id: 12 }), '/api/images/12');
  });

  it('adds query parameters, skipping missing ones', () => {
    assert.equal(
      buildApiUrl('/api/images', {}, { dataset: 'ilsvrc2012', wnid: 'n01440764', cursor: undefined, subset: null, limit: 60 }),
      '/api/images?dataset=ilsvrc2012&wnid=n01440764&limit=60',
    );
    assert.equal(buildApiUrl('/api/synsets', {}, { q: 'a&b' }), '/api/synsets?q=a%26b');
    assert.equal(buildApiUrl('/api/x', {}, { tag: ['a', 'b'] }), '/api/x?tag=a&tag=b');
    assert.equal(buildApiUrl('/api/datasets'), '/api/datasets');
  });

  it('refuses a template with a missing path parameter', () => {
    assert.throws(() => buildApiUrl('/api/datasets/{slug}', {}), /slug/);
  });
});
