/**
 * The one place that talks to the API. Requests are typed by the generated OpenAPI `paths`:
 * the path template picks the operation, which fixes its parameters, body and response.
 *
 *   const classes = await api.get('/api/datasets/{slug}/classes', { path: { slug }, query: { subset } });
 *
 * Cookies go along (same origin). Writes carry the anti-forgery token of GET /api/auth/csrf in the
 * header it names; the token is bound to the session, so it is fetched again after sign-in/sign-out.
 * Failures throw ApiError holding the problem+json of the response (see logic/problem.ts).
 */
import type { paths } from './schema';
import type { CsrfToken, CurrentUser, ImportUnchanged, JobAccepted, SignInRequest, UploadPredictionsResponse } from './types';
import type { UploadFormat } from '../logic/uploadFormat';
import { buildApiUrl, type PathValue, type QueryValue } from '../logic/url';
import { networkProblem, parseProblem, problemSummary, type Problem } from '../logic/problem';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** The path templates that have an operation for this method. */
type PathsWith<M extends Method> = {
  [P in keyof paths]: paths[P] extends { [K in M]: object } ? P : never;
}[keyof paths];

type Operation<P extends keyof paths, M extends Method> = paths[P][M];

type PathParams<O> = O extends { parameters: { path: infer X } } ? X : never;
type QueryParams<O> = O extends { parameters: { query?: infer X } } ? Exclude<X, undefined> : never;
type QueryRequired<O> = O extends { parameters: { query: object } } ? true : false;
type JsonBody<O> = O extends { requestBody: { content: { 'application/json': infer B } } } ? B : never;
type JsonContent<R> = R extends { content: { 'application/json': infer T } } ? T : undefined;
type Success<O> = O extends { responses: infer R }
  ? R extends { 200: infer S }
    ? JsonContent<S>
    : R extends { 201: infer S }
      ? JsonContent<S>
      : R extends { 202: infer S }
        ? JsonContent<S>
        : undefined
  : never;

/** The options of a request: path and query parameters and body as the operation declares them. */
export type ApiRequestOptions<O> = { signal?: AbortSignal } & ([PathParams<O>] extends [never]
  ? unknown
  : { path: PathParams<O> }) &
  ([QueryParams<O>] extends [never]
    ? unknown
    : QueryRequired<O> extends true
      ? { query: QueryParams<O> }
      : { query?: QueryParams<O> }) &
  ([JsonBody<O>] extends [never] ? unknown : { body: JsonBody<O> });

type InitArgs<O> = object extends ApiRequestOptions<O> ? [init?: ApiRequestOptions<O>] : [init: ApiRequestOptions<O>];

interface LooseInit {
  signal?: AbortSignal;
  path?: Record<string, PathValue>;
  query?: Record<string, QueryValue>;
  body?: unknown;
}

/** A failed request; `problem` is what the server said (or what went wrong on the way). */
export class ApiError extends Error {
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(problemSummary(problem));
    this.name = 'ApiError';
    this.problem = problem;
  }

  get status(): number {
    return this.problem.status;
  }
}

/** Whether an error is the cancellation of a request (a page was left); such errors are not shown. */
export function isAbortError(error: unknown): boolean {
  return error instanceof DOMException ? error.name === 'AbortError' : (error as { name?: unknown } | null)?.name === 'AbortError';
}

/** The problem to show for any error thrown by a request or a page. */
export function toProblem(error: unknown): Problem {
  if (error instanceof ApiError) return error.problem;
  return {
    status: 0,
    title: 'Something went wrong',
    detail: error instanceof Error ? error.message : String(error),
    errors: [],
    errorCount: 0,
    traceId: null,
  };
}

export const api = {
  get<P extends PathsWith<'get'>>(path: P, ...args: InitArgs<Operation<P, 'get'>>): Promise<Success<Operation<P, 'get'>>> {
    return request('GET', path, args[0]) as Promise<Success<Operation<P, 'get'>>>;
  },
  post<P extends PathsWith<'post'>>(path: P, ...args: InitArgs<Operation<P, 'post'>>): Promise<Success<Operation<P, 'post'>>> {
    return request('POST', path, args[0]) as Promise<Success<Operation<P, 'post'>>>;
  },
  put<P extends PathsWith<'put'>>(path: P, ...args: InitArgs<Operation<P, 'put'>>): Promise<Success<Operation<P, 'put'>>> {
    return request('PUT', path, args[0]) as Promise<Success<Operation<P, 'put'>>>;
  },
  patch<P extends PathsWith<'patch'>>(path: P, ...args: InitArgs<Operation<P, 'patch'>>): Promise<Success<Operation<P, 'patch'>>> {
    return request('PATCH', path, args[0]) as Promise<Success<Operation<P, 'patch'>>>;
  },
  delete<P extends PathsWith<'delete'>>(path: P, ...args: InitArgs<Operation<P, 'delete'>>): Promise<Success<Operation<P, 'delete'>>> {
    return request('DELETE', path, args[0]) as Promise<Success<Operation<P, 'delete'>>>;
  },
};

// --- Session -------------------------------------------------------------------------------------

/** Signs in with a password; the server sets an HttpOnly session cookie. */
export async function signIn(credentials: SignInRequest, signal?: AbortSignal): Promise<CurrentUser> {
  const init = signal ? { body: credentials, signal } : { body: credentials };
  try {
    return await api.post('/api/auth/sign-in', init);
  } finally {
    renewCsrfToken();
  }
}

export async function signOut(): Promise<void> {
  try {
    await api.post('/api/auth/sign-out');
  } finally {
    renewCsrfToken();
  }
}

/** The signed-in user, or null when anonymous (401). */
export async function fetchCurrentUser(signal?: AbortSignal): Promise<CurrentUser | null> {
  try {
    return await api.get('/api/auth/me', signal ? { signal } : {});
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

// --- Prediction uploads ------------------------------------------------------------------------

export interface UploadProgress {
  readonly loaded: number;
  readonly total: number;
}

export interface PredictionUploadOptions {
  readonly labels: 'wnid' | 'index';
  readonly partial: boolean;
  /** Check the whole file and answer what the upload would do, writing nothing. */
  readonly dryRun?: boolean;
  readonly onProgress?: (progress: UploadProgress) => void;
  readonly signal?: AbortSignal;
}

/**
 * PUT /api/models/{slug}/predictions/{dataset} with a file as the body, through XMLHttpRequest because fetch
 * reports no upload progress. A gzipped file is sent as is with Content-Encoding: gzip.
 */
export async function uploadPredictions(
  model: string,
  dataset: string,
  file: Blob,
  format: UploadFormat,
  options: PredictionUploadOptions,
  retry = true,
): Promise<UploadPredictionsResponse> {
  const url = buildApiUrl(
    '/api/models/{slug}/predictions/{dataset}',
    { slug: model, dataset },
    { labels: options.labels, partial: options.partial ? true : undefined, dryRun: options.dryRun ? true : undefined },
  );
  const csrf = await getCsrfToken();
  const result = await new Promise<{ status: number; statusText: string; text: string; type: string }>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    xhr.setRequestHeader('Accept', 'application/json, application/problem+json');
    xhr.setRequestHeader('Content-Type', format.contentType);
    if (format.gzip) xhr.setRequestHeader('Content-Encoding', 'gzip');
    xhr.setRequestHeader(csrf.headerName, csrf.token);
    xhr.upload.addEventListener('progress', (event) =>
      options.onProgress?.({ loaded: event.loaded, total: event.lengthComputable ? event.total : file.size }),
    );
    xhr.addEventListener('load', () =>
      resolve({ status: xhr.status, statusText: xhr.statusText, text: xhr.responseText, type: xhr.getResponseHeader('Content-Type') ?? '' }),
    );
    xhr.addEventListener('error', () => reject(new ApiError(networkProblem())));
    xhr.addEventListener('abort', () => reject(new DOMException('The upload was cancelled.', 'AbortError')));
    if (options.signal?.aborted) {
      reject(new DOMException('The upload was cancelled.', 'AbortError'));
      return;
    }
    options.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(file);
  });

  if (result.status === 403 && retry) {
    csrfToken = null;
    return uploadPredictions(model, dataset, file, format, options, false);
  }
  let body: unknown = result.text;
  if (result.text !== '' && result.type.includes('json')) {
    try {
      body = JSON.parse(result.text);
    } catch {
      /* keep the text */
    }
  }
  if (result.status < 200 || result.status >= 300) throw new ApiError(parseProblem(result.status, result.statusText, body));
  return body as UploadPredictionsResponse;
}

// --- Imports -------------------------------------------------------------------------------------

/**
 * What an import answers: 202 with the job that writes it, or 200 when it is done at once (the content was already
 * imported, or a small import such as reference labels answers with what it wrote).
 */
export type ImportAnswer =
  | { readonly status: 202; readonly job: JobAccepted }
  | { readonly status: 200; readonly body: ImportUnchanged | Record<string, unknown> };

/**
 * Sends a file as the body of an import (POST or PUT). A file whose name ends in .gz is sent as is with
 * Content-Encoding: gzip. Problems are thrown as ApiError, like every other call.
 */
export async function sendImportFile(
  method: 'POST' | 'PUT',
  path: string,
  file: Blob,
  contentType: string,
  gzip: boolean,
  signal?: AbortSignal,
  retry = true,
): Promise<ImportAnswer> {
  const csrf = await getCsrfToken();
  const headers = new Headers({ Accept: 'application/json, application/problem+json', 'Content-Type': contentType });
  if (gzip) headers.set('Content-Encoding', 'gzip');
  headers.set(csrf.headerName, csrf.token);
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: file, credentials: 'same-origin', signal: signal ?? null });
  } catch (error) {
    if (isAbortError(error)) throw error;
    throw new ApiError(networkProblem());
  }
  if (response.status === 403 && retry) {
    csrfToken = null;
    return sendImportFile(method, path, file, contentType, gzip, signal, false);
  }
  if (!response.ok) throw new ApiError(await readProblem(response));
  const text = await response.text();
  const body = text === '' ? {} : (JSON.parse(text) as unknown);
  return response.status === 202 ? { status: 202, job: body as JobAccepted } : { status: 200, body: body as Record<string, unknown> };
}

// --- Transport -----------------------------------------------------------------------------------

let csrfToken: Promise<CsrfToken> | null = null;

function getCsrfToken(): Promise<CsrfToken> {
  csrfToken ??= (request('GET', '/api/auth/csrf', undefined) as Promise<CsrfToken>).catch((error: unknown) => {
    csrfToken = null;
    throw error;
  });
  return csrfToken;
}

/** Drops the anti-forgery token (it belongs to the previous session) and fetches the new one. */
function renewCsrfToken(): void {
  csrfToken = null;
  getCsrfToken().catch(() => {
    /* fetched again on the next write */
  });
}

async function request(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', template: string, init: unknown, retry = true): Promise<unknown> {
  const options = (init ?? {}) as LooseInit;
  const url = buildApiUrl(template, options.path, options.query);
  const headers = new Headers({ Accept: 'application/json, application/problem+json' });
  let body: string | null = null;
  if (options.body !== undefined) {
    headers.set('Content-Type', 'application/json');
    body = JSON.stringify(options.body);
  }
  if (method !== 'GET') {
    const csrf = await getCsrfToken();
    headers.set(csrf.headerName, csrf.token);
  }

  let response: Response;
  try {
    // The board may be cached by proxies for a few seconds (Cache-Control max-age); the app always revalidates, so a
    // reviewer sees their own verdict at once (an unchanged board costs a 304).
    response = await fetch(url, { method, headers, body, credentials: 'same-origin', cache: 'no-cache', signal: options.signal ?? null });
  } catch (error) {
    if (isAbortError(error)) throw error;
    throw new ApiError(networkProblem());
  }

  // A 403 on a write may be a stale anti-forgery token (the session changed in another tab):
  // the server rejected the request, so it is safe to send it once more with a fresh token.
  if (response.status === 403 && method !== 'GET' && retry) {
    csrfToken = null;
    return request(method, template, init, false);
  }
  if (!response.ok) throw new ApiError(await readProblem(response));
  if (response.status === 204) return undefined;
  const text = await response.text();
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

async function readProblem(response: Response): Promise<Problem> {
  let text = '';
  try {
    text = await response.text();
  } catch {
    /* no body */
  }
  let body: unknown = text;
  if (text !== '' && (response.headers.get('Content-Type') ?? '').includes('json')) {
    try {
      body = JSON.parse(text);
    } catch {
      /* keep the text */
    }
  }
  return parseProblem(response.status, response.statusText, body);
}
