import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatProblem, formatProblemLine, networkProblem, parseProblem, problemSummary } from '../src/logic/problem';

describe('parseProblem', () => {
  it('reads title, detail, traceId and line errors of problem+json', () => {
    const problem = parseProblem(422, '', {
      type: 'https://tools.ietf.org/html/rfc9110#section-15.5.21',
      title: 'Invalid class list',
      status: 422,
      detail: '2 error(s).',
      traceId: '00-abc-01',
      errors: [
        { line: 3, field: 'wnid', message: "'n0' is not a WordNet noun synset." },
        { line: 0, field: 'wnid', message: "Images are labelled 'n1', which the new class list lacks." },
      ],
      errorCount: 2,
    });
    assert.deepEqual(problem, {
      status: 422,
      title: 'Invalid class list',
      detail: '2 error(s).',
      errors: [
        { line: 3, field: 'wnid', message: "'n0' is not a WordNet noun synset." },
        { line: 0, field: 'wnid', message: "Images are labelled 'n1', which the new class list lacks." },
      ],
      errorCount: 2,
      traceId: '00-abc-01',
    });
  });

  it('reads ASP.NET validation problems (a map of field to messages)', () => {
    const problem = parseProblem(400, 'Bad Request', {
      title: 'One or more validation errors occurred.',
      status: 400,
      errors: { Name: ['name: letters, digits.'], Roles: ['roles: each one of admin, reviewer, uploader.', 'x'] },
    });
    assert.deepEqual(problem.errors, [
      { line: null, field: 'Name', message: 'name: letters, digits.' },
      { line: null, field: 'Roles', message: 'roles: each one of admin, reviewer, uploader.' },
      { line: null, field: 'Roles', message: 'x' },
    ]);
    assert.equal(problem.errorCount, 3);
  });

  it('falls back to the status when the body has no title', () => {
    assert.equal(parseProblem(404, 'Not Found', {}).title, 'Not Found (HTTP 404)');
    assert.equal(parseProblem(429, '', null).title, 'Too many requests (HTTP 429)');
    assert.equal(parseProblem(599, '', '').title, 'HTTP 599');
    assert.equal(parseProblem(401, '', { title: '  ' }).title, 'Not signed in (HTTP 401)');
  });

  it('keeps a short text body as the detail', () => {
    const problem = parseProblem(502, 'Bad Gateway', '  upstream timed out  ');
    assert.equal(problem.title, 'Bad Gateway (HTTP 502)');
    assert.equal(problem.detail, 'upstream timed out');
    const long = parseProblem(500, '', 'x'.repeat(1000));
    assert.equal(long.detail?.length, 301);
  });

  it('ignores malformed error entries', () => {
    const problem = parseProblem(422, '', { title: 't', errors: [null, 3, { line: 'x', message: 'kept' }, { field: 'f' }, 'plain'] });
    assert.deepEqual(problem.errors, [
      { line: null, field: null, message: 'kept' },
      { line: null, field: null, message: 'plain' },
    ]);
  });

  it('keeps the file of an error in a bundle', () => {
    const problem = parseProblem(422, '', { title: 't', errors: [{ file: 'datasets/d/images.ndjson', line: 5, field: 'wnid', message: 'unknown' }] });
    assert.deepEqual(problem.errors, [{ file: 'datasets/d/images.ndjson', line: 5, field: 'wnid', message: 'unknown' }]);
  });

  it('describes a request that got no response', () => {
    const problem = networkProblem();
    assert.equal(problem.status, 0);
    assert.equal(problem.title, 'The server cannot be reached');
  });
});

describe('formatProblem', () => {
  it('formats each error with the parts it has', () => {
    assert.equal(formatProblemLine({ line: 3, field: 'wnids[2]', message: 'not a class' }), 'Line 3, wnids[2]: not a class');
    assert.equal(formatProblemLine({ line: 0, field: 'wnid', message: 'dropped' }), 'wnid: dropped');
    assert.equal(formatProblemLine({ line: 12, field: null, message: 'bad row' }), 'Line 12: bad row');
    assert.equal(formatProblemLine({ line: null, field: null, message: 'plain' }), 'plain');
    assert.equal(formatProblemLine({ file: 'datasets/d/verdicts.ndjson', line: 3, field: 'verdict', message: 'bad' }),
      'datasets/d/verdicts.ndjson, Line 3, verdict: bad');
  });

  it('surfaces title, detail and the list', () => {
    const formatted = formatProblem(
      parseProblem(422, '', { title: 'Invalid manifest', detail: '1 error(s).', errors: [{ line: 2, field: 'label', message: 'unknown' }] }),
    );
    assert.deepEqual(formatted, { title: 'Invalid manifest', detail: '1 error(s).', lines: ['Line 2, label: unknown'] });
  });

  it('notes unlisted errors unless the detail already counts them', () => {
    const errors = [{ line: 1, field: 'f', message: 'm' }];
    assert.deepEqual(formatProblem(parseProblem(422, '', { title: 't', errors, errorCount: 250 })).lines, ['Line 1, f: m', '…and 249 more.']);
    assert.deepEqual(
      formatProblem(parseProblem(422, '', { title: 't', detail: '250 errors; the first 1 are listed.', errors, errorCount: 250 })).lines,
      ['Line 1, f: m'],
    );
  });

  it('summarises a problem in one line', () => {
    assert.equal(problemSummary(parseProblem(401, '', { title: 'Wrong name or password' })), 'Wrong name or password');
    assert.equal(problemSummary(parseProblem(404, '', { title: 'Not found', detail: "Dataset 'x' does not exist." })), "Not found: Dataset 'x' does not exist.");
  });
});
