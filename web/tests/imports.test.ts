import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeJob, exportLinks, importTarget, needsDataset } from '../src/logic/imports';

describe('importTarget', () => {
  it('sends each kind to its endpoint with its content type, gzip by file name', () => {
    assert.deepEqual(importTarget('rater-votes', 'imagenet val', 'votes.csv.gz', ''), {
      method: 'POST', path: '/api/datasets/imagenet%20val/import/rater-votes', contentType: 'text/csv', gzip: true,
    });
    assert.equal(importTarget('golden-votes', 'd', 'g.csv', '').path, '/api/datasets/d/import/rater-votes?golden=true');
    assert.equal(importTarget('multilabel', 'd', 'm.json', '').path, '/api/datasets/d/import/multilabel?source=icml2020');
    assert.equal(importTarget('multilabel', 'd', 'm.json', 'my release').path, '/api/datasets/d/import/multilabel?source=my%20release');
    assert.deepEqual(importTarget('reference-labels', 'd', 'real.json', ''), {
      method: 'PUT', path: '/api/datasets/d/reference-labels', contentType: 'application/json', gzip: false,
    });
  });

  it('sends a bundle as the gzip archive it is, whatever dataset is chosen', () => {
    assert.deepEqual(importTarget('bundle', 'd', 'imagenet-val-bundle.tar.gz', ''), {
      method: 'POST', path: '/api/import/bundle', contentType: 'application/gzip', gzip: false,
    });
    assert.equal(importTarget('bundle', 'd', 'b.tar', '').contentType, 'application/x-tar');
    assert.equal(needsDataset('bundle'), false);
    assert.equal(needsDataset('multilabel'), true);
  });
});

describe('exportLinks', () => {
  it('offers the bundle and the published formats of a dataset, with file names', () => {
    const links = exportLinks('imagenet val');
    assert.deepEqual(links.map((l) => l.href), [
      '/api/datasets/imagenet%20val/export/bundle',
      '/api/datasets/imagenet%20val/export/multilabel',
      '/api/datasets/imagenet%20val/export/real',
    ]);
    assert.equal(links[0]!.fileName, 'imagenet val-bundle.tar.gz');
  });
});

describe('describeJob', () => {
  it('reports progress while running and the outcome at the end', () => {
    assert.deepEqual(describeJob({ status: 'running', done: 50, total: 200, message: 'writing votes' }), {
      fraction: 0.25, text: 'writing votes (50 of 200)',
    });
    assert.equal(describeJob({ status: 'succeeded', done: 0, total: 0, message: '' }).fraction, 1);
    assert.equal(describeJob({ status: 'failed', done: 1, total: 2, message: 'no votes' }).text, 'Failed: no votes');
    assert.equal(describeJob({ status: 'queued', done: 0, total: 0, message: '' }).fraction, 0);
  });
});
