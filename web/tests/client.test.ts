import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, api, isAbortError, signIn, signOut, uploadPredictions, type UploadProgress } from '../src/api/client';

// The client against a small fake of fetch (and of XMLHttpRequest for uploads): every request it makes is recorded,
// and each test decides what the "server" answers.

interface Call {
  readonly method: string;
  readonly url: string;
  readonly headers: Headers;
  readonly body: unknown;
}

type Handler = (call: Call) => Response | Promise<Response>;

function json(status: number, body: unknown, type = 'application/json'): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } });
}

function problem(status: number, title: string, extra: Record<string, unknown> = {}): Response {
  return json(status, { status, title, traceId: '00-trace-01', ...extra }, 'application/problem+json');
}

/** Replaces fetch; the returned array fills with the requests made. */
function fakeFetch(handler: Handler): Call[] {
  const calls: Call[] = [];
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const call = { method: init?.method ?? 'GET', url: String(input), headers: new Headers(init?.headers), body: init?.body };
    calls.push(call);
    if (init?.signal?.aborted) throw new DOMException('The operation was aborted.', 'AbortError');
    return handler(call);
  }) as typeof fetch;
  return calls;
}

/** A server that hands out anti-forgery tokens csrf-1, csrf-2, ... and answers everything else with `other`. */
function server(other: Handler): { calls: Call[]; tokens: () => number } {
  let issued = 0;
  const calls = fakeFetch((call) => {
    if (call.url === '/api/auth/csrf') return json(200, { token: `csrf-${++issued}`, headerName: 'X-CSRF-Token' });
    return other(call);
  });
  return { calls, tokens: () => issued };
}

/**
 * Starts each test from a known anti-forgery token: signing out drops the cached one and fetches the next, so the
 * tests do not depend on each other's order.
 */
async function freshSession(token: string): Promise<void> {
  fakeFetch((call) =>
    call.url === '/api/auth/csrf' ? json(200, { token, headerName: 'X-CSRF-Token' }) : new Response(null, { status: 204 }),
  );
  await signOut();
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

const note = { wnid: 'n01440764', otherWnid: null, body: 'x' };

describe('anti-forgery token', () => {
  it('is fetched once and sent with every write, never with a read', async () => {
    await freshSession('session-a');
    const { calls } = server(() => json(200, { ok: true }));
    await api.get('/api/datasets');
    await api.post('/api/review/items/{id}/adjudicate', { path: { id: 1 }, body: { verdict: 'correct', version: 0, note: null } });
    await api.put('/api/guide-notes', { body: note });
    await api.delete('/api/tokens/{id}', { path: { id: 7 } });

    assert.deepEqual(
      calls.map((c) => `${c.method} ${c.url}`),
      ['GET /api/datasets', 'POST /api/review/items/1/adjudicate', 'PUT /api/guide-notes', 'DELETE /api/tokens/7'],
    );
    assert.equal(calls[0]?.headers.get('X-CSRF-Token'), null);
    for (const call of calls.slice(1)) assert.equal(call.headers.get('X-CSRF-Token'), 'session-a');
    assert.equal(calls[2]?.headers.get('Content-Type'), 'application/json');
    assert.equal(calls[2]?.body, JSON.stringify(note));
  });

  it('is fetched again after a 403 on a write, and the write is sent once more with the new token', async () => {
    await freshSession('stale');
    let writes = 0;
    const { calls, tokens } = server(() => (++writes === 1 ? problem(403, 'Forbidden') : json(200, { name: 'n' })));
    const result = await api.put('/api/guide-notes', { body: note });

    assert.deepEqual(result, { name: 'n' });
    assert.equal(tokens(), 1);
    assert.deepEqual(
      calls.map((c) => `${c.method} ${c.url} ${c.headers.get('X-CSRF-Token') ?? '-'}`),
      ['PUT /api/guide-notes stale', 'GET /api/auth/csrf -', 'PUT /api/guide-notes csrf-1'],
    );
  });

  it('is retried only once: a second 403 is the answer', async () => {
    await freshSession('stale');
    const { calls } = server(() => problem(403, 'Forbidden', { detail: 'Reviewers only.' }));
    const error = await rejection(api.put('/api/guide-notes', { body: note }));

    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 403);
    assert.equal(error.problem.detail, 'Reviewers only.');
    assert.equal(calls.filter((c) => c.method === 'PUT').length, 2);
  });

  it('is not involved in a read that gets 403: no retry', async () => {
    await freshSession('session-b');
    const { calls } = server(() => problem(403, 'Forbidden'));
    const error = await rejection(api.get('/api/users'));

    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 403);
    assert.deepEqual(calls.map((c) => c.url), ['/api/users']);
  });

  it('is forgotten when fetching it failed, so the next write asks again', async () => {
    await freshSession('ignored');
    // Drop the cached token with a 403, then fail to fetch a new one.
    let csrfAnswers = 0;
    const calls = fakeFetch((call) => {
      if (call.url === '/api/auth/csrf') {
        csrfAnswers++;
        return csrfAnswers === 1 ? problem(503, 'Service unavailable') : json(200, { token: 'after-outage', headerName: 'X-CSRF-Token' });
      }
      return call.headers.get('X-CSRF-Token') === 'after-outage' ? json(200, {}) : problem(403, 'Forbidden');
    });
    const first = await rejection(api.put('/api/guide-notes', { body: note }));
    assert.ok(first instanceof ApiError);
    assert.equal(first.status, 503);

    await api.put('/api/guide-notes', { body: note });
    assert.equal(csrfAnswers, 2);
    assert.equal(calls.at(-1)?.headers.get('X-CSRF-Token'), 'after-outage');
  });

  it('is renewed by signing in, whose session it belongs to', async () => {
    await freshSession('anonymous');
    const { calls } = server((call) => (call.url === '/api/auth/sign-in' ? json(200, { name: 'ann', displayName: 'Ann', roles: [] }) : json(200, {})));
    await signIn({ name: 'ann', password: 'secret-password' });
    await api.put('/api/guide-notes', { body: note });

    assert.equal(calls[0]?.headers.get('X-CSRF-Token'), 'anonymous');
    assert.equal(calls.at(-1)?.headers.get('X-CSRF-Token'), 'csrf-1');
  });
});

describe('errors', () => {
  it('turn a problem+json answer into an ApiError with its title, detail, lines and trace id', async () => {
    await freshSession('s');
    server(() =>
      problem(422, 'Invalid predictions', {
        detail: '2 error(s).',
        errors: [
          { line: 3, field: 'labels[0]', message: "'n0' is not a class." },
          { line: 9, field: 'image', message: "'x.JPEG' is not an image of the dataset." },
        ],
        errorCount: 2,
      }),
    );
    const error = await rejection(api.get('/api/datasets'));

    assert.ok(error instanceof ApiError);
    assert.equal(error.name, 'ApiError');
    assert.equal(error.status, 422);
    assert.equal(error.message, 'Invalid predictions: 2 error(s).');
    assert.deepEqual(error.problem.errors, [
      { line: 3, field: 'labels[0]', message: "'n0' is not a class." },
      { line: 9, field: 'image', message: "'x.JPEG' is not an image of the dataset." },
    ]);
    assert.equal(error.problem.traceId, '00-trace-01');
  });

  it('turn an answer without a problem body into an ApiError named by its status', async () => {
    await freshSession('s');
    server(() => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway', headers: { 'Content-Type': 'text/html' } }));
    const error = await rejection(api.get('/api/datasets'));

    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 502);
    assert.ok(error.problem.title.length > 0);
  });

  it('turn a network failure into an ApiError with status 0, and leave a cancellation a cancellation', async () => {
    await freshSession('s');
    fakeFetch(() => {
      throw new TypeError('fetch failed');
    });
    const network = await rejection(api.get('/api/datasets'));
    assert.ok(network instanceof ApiError);
    assert.equal(network.status, 0);

    server(() => json(200, []));
    const controller = new AbortController();
    controller.abort();
    const cancelled = await rejection(api.get('/api/datasets', { signal: controller.signal }));
    assert.ok(!(cancelled instanceof ApiError));
    assert.ok(isAbortError(cancelled));
  });

  it('are not thrown for 204: the result is undefined', async () => {
    await freshSession('s');
    server(() => new Response(null, { status: 204 }));
    assert.equal(await api.delete('/api/tokens/{id}', { path: { id: 3 } }), undefined);
  });
});

// --- Uploads through XMLHttpRequest ----------------------------------------------------------------

interface UploadEvent {
  readonly loaded: number;
  readonly total: number;
  readonly lengthComputable: boolean;
}

/** The part of XMLHttpRequest that uploadPredictions uses; `onSend` plays the server. */
class FakeXhr {
  static sent: FakeXhr[] = [];
  static onSend: (xhr: FakeXhr) => void = () => undefined;

  method = '';
  url = '';
  readonly headers = new Map<string, string>();
  body: unknown = null;
  status = 0;
  statusText = '';
  responseText = '';
  aborted = false;
  private contentType = '';
  private readonly listeners = new Map<string, (() => void)[]>();
  private readonly uploadListeners: ((event: UploadEvent) => void)[] = [];

  readonly upload = {
    addEventListener: (_type: string, listener: (event: UploadEvent) => void) => this.uploadListeners.push(listener),
  };

  open(method: string, url: string): void {
    this.method = method;
    this.url = url;
  }

  setRequestHeader(name: string, value: string): void {
    this.headers.set(name, value);
  }

  addEventListener(type: string, listener: () => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  getResponseHeader(name: string): string | null {
    return name.toLowerCase() === 'content-type' ? this.contentType : null;
  }

  send(body: unknown): void {
    this.body = body;
    FakeXhr.sent.push(this);
    FakeXhr.onSend(this);
  }

  abort(): void {
    this.aborted = true;
    this.fire('abort');
  }

  progress(loaded: number, total: number, lengthComputable = true): void {
    for (const listener of this.uploadListeners) listener({ loaded, total, lengthComputable });
  }

  answer(status: number, body: unknown, contentType = 'application/json'): void {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.contentType = contentType;
    this.fire('load');
  }

  fail(): void {
    this.fire('error');
  }

  private fire(type: string): void {
    for (const listener of this.listeners.get(type) ?? []) listener();
  }
}

function fakeXhr(onSend: (xhr: FakeXhr) => void): FakeXhr[] {
  FakeXhr.sent = [];
  FakeXhr.onSend = onSend;
  (globalThis as unknown as { XMLHttpRequest: unknown }).XMLHttpRequest = FakeXhr;
  return FakeXhr.sent;
}

const file = new Blob(['{"predictions":[]}']);
const gzipJson = { contentType: 'application/json', gzip: true } as const;

describe('uploadPredictions', () => {
  it('sends the file with its type, encoding and token, reports progress and returns the result', async () => {
    await freshSession('upload-token');
    const sent = fakeXhr((xhr) => {
      xhr.progress(5, 18);
      xhr.progress(9, 0, false);
      xhr.progress(18, 18);
      xhr.answer(200, { outcome: 'applied', images: 6 });
    });
    const progress: UploadProgress[] = [];
    const result = await uploadPredictions('m', 'imagenet val', file, gzipJson, {
      labels: 'index',
      partial: true,
      onProgress: (p) => progress.push(p),
    });

    assert.deepEqual(result, { outcome: 'applied', images: 6 });
    const xhr = sent[0];
    assert.ok(xhr);
    assert.equal(xhr.method, 'PUT');
    assert.equal(xhr.url, '/api/models/m/predictions/imagenet%20val?labels=index&partial=true');
    assert.equal(xhr.body, file);
    assert.equal(xhr.headers.get('Content-Type'), 'application/json');
    assert.equal(xhr.headers.get('Content-Encoding'), 'gzip');
    assert.equal(xhr.headers.get('X-CSRF-Token'), 'upload-token');
    // An unknown total is the file's size.
    assert.deepEqual(progress, [
      { loaded: 5, total: 18 },
      { loaded: 9, total: file.size },
      { loaded: 18, total: 18 },
    ]);
  });

  it('turns a refusal into an ApiError with the lines of the problem', async () => {
    await freshSession('s');
    fakeXhr((xhr) =>
      xhr.answer(422, { status: 422, title: 'Invalid predictions', errors: [{ line: 2, field: 'image', message: 'unknown image' }] }, 'application/problem+json'),
    );
    const error = await rejection(uploadPredictions('m', 'd', file, gzipJson, { labels: 'wnid', partial: false }));

    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 422);
    assert.deepEqual(error.problem.errors, [{ line: 2, field: 'image', message: 'unknown image' }]);
  });

  it('sends once more with a fresh token after a 403, and only once', async () => {
    await freshSession('stale');
    const { tokens } = server(() => json(500, {}));
    const sent = fakeXhr((xhr) => xhr.answer(403, { status: 403, title: 'Forbidden' }, 'application/problem+json'));
    const error = await rejection(uploadPredictions('m', 'd', file, gzipJson, { labels: 'wnid', partial: false }));

    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 403);
    assert.deepEqual(sent.map((x) => x.headers.get('X-CSRF-Token')), ['stale', 'csrf-1']);
    assert.equal(tokens(), 1);
  });

  it('is cancelled by its signal: the request is aborted and the promise rejects with an AbortError', async () => {
    await freshSession('s');
    const controller = new AbortController();
    const sent = fakeXhr((xhr) => {
      xhr.progress(1, 10);
      controller.abort();
    });
    const error = await rejection(uploadPredictions('m', 'd', file, gzipJson, { labels: 'wnid', partial: false, signal: controller.signal }));

    assert.ok(isAbortError(error));
    assert.ok(!(error instanceof ApiError));
    assert.equal(sent[0]?.aborted, true);
  });

  it('sends nothing when its signal is already aborted', async () => {
    await freshSession('s');
    const sent = fakeXhr((xhr) => xhr.answer(200, {}));
    const controller = new AbortController();
    controller.abort();
    const error = await rejection(uploadPredictions('m', 'd', file, gzipJson, { labels: 'wnid', partial: false, signal: controller.signal }));

    assert.ok(isAbortError(error));
    assert.equal(sent.length, 0);
  });

  it('turns a network error into an ApiError with status 0', async () => {
    await freshSession('s');
    fakeXhr((xhr) => xhr.fail());
    const error = await rejection(uploadPredictions('m', 'd', file, gzipJson, { labels: 'wnid', partial: false }));

    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 0);
  });
});
