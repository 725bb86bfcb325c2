import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatPercent, uploadFormatOf } from '../src/logic/uploadFormat';

describe('uploadFormatOf', () => {
  it('reads the content type from the extension', () => {
    assert.deepEqual(uploadFormatOf('preds.json'), { contentType: 'application/json', gzip: false });
    assert.deepEqual(uploadFormatOf('PREDS.CSV'), { contentType: 'text/csv', gzip: false });
    assert.deepEqual(uploadFormatOf('a.ndjson'), { contentType: 'application/x-ndjson', gzip: false });
    assert.deepEqual(uploadFormatOf('a.jsonl'), { contentType: 'application/x-ndjson', gzip: false });
  });

  it('sends gzipped files with their inner type', () => {
    assert.deepEqual(uploadFormatOf('preds.csv.gz'), { contentType: 'text/csv', gzip: true });
    assert.deepEqual(uploadFormatOf('preds.json.gz'), { contentType: 'application/json', gzip: true });
  });

  it('refuses other files', () => {
    assert.equal(uploadFormatOf('preds.txt'), null);
    assert.equal(uploadFormatOf('preds.gz'), null);
    assert.equal(uploadFormatOf(''), null);
  });
});

describe('formatPercent', () => {
  it('keeps one decimal below 10%', () => {
    assert.equal(formatPercent(1), '100%');
    assert.equal(formatPercent(0.25), '25%');
    assert.equal(formatPercent(0.0123), '1.2%');
    assert.equal(formatPercent(0), '0%');
  });
});
