/**
 * Errors from the API arrive as problem+json (RFC 9457): title, detail, traceId, and for body
 * errors a list of {line, field, message} (or, from validators, a map of field to messages).
 * This module turns any error response into one shape and formats it for display.
 */

export interface ProblemLine {
  /** The file of a body made of several files (a bundle); absent otherwise. */
  readonly file?: string;
  /** The line (or row, or position) in the request body, from 1; null when it has none. */
  readonly line: number | null;
  readonly field: string | null;
  readonly message: string;
}

export interface Problem {
  /** The HTTP status; 0 when the server could not be reached. */
  readonly status: number;
  readonly title: string;
  readonly detail: string | null;
  readonly errors: readonly ProblemLine[];
  /** How many errors there are in all; the list may hold only the first of them. */
  readonly errorCount: number;
  readonly traceId: string | null;
}

export interface FormattedProblem {
  readonly title: string;
  readonly detail: string | null;
  readonly lines: readonly string[];
}

const MaxTextDetail = 300;

/**
 * The problem of an error response, from its parsed JSON body or its text (a proxy's HTML page,
 * an empty body). Unknown shapes degrade to a title built from the status.
 */
export function parseProblem(status: number, statusText: string, body: unknown): Problem {
  const fallbackTitle = statusTitle(status, statusText);
  if (isRecord(body)) {
    const errors = parseErrors(body['errors']);
    const errorCount = typeof body['errorCount'] === 'number' ? body['errorCount'] : errors.length;
    return {
      status: typeof body['status'] === 'number' ? body['status'] : status,
      title: nonEmptyString(body['title']) ?? fallbackTitle,
      detail: nonEmptyString(body['detail']),
      errors,
      errorCount: Math.max(errorCount, errors.length),
      traceId: nonEmptyString(body['traceId']),
    };
  }
  const text = typeof body === 'string' ? body.trim() : '';
  return {
    status,
    title: fallbackTitle,
    detail: text === '' ? null : text.length > MaxTextDetail ? `${text.slice(0, MaxTextDetail)}…` : text,
    errors: [],
    errorCount: 0,
    traceId: null,
  };
}

/** The problem of a request that got no response at all. */
export function networkProblem(message?: string): Problem {
  return {
    status: 0,
    title: 'The server cannot be reached',
    detail: message ?? 'Check the connection and try again.',
    errors: [],
    errorCount: 0,
    traceId: null,
  };
}

/** "Line 3, wnids[2]: 'x' is not a class." (with the file first, when there is one) — the parts that are known. */
export function formatProblemLine(error: ProblemLine): string {
  const where = [error.file ?? null, error.line !== null && error.line > 0 ? `Line ${error.line}` : null, error.field || null]
    .filter((part): part is string => part !== null)
    .join(', ');
  return where === '' ? error.message : `${where}: ${error.message}`;
}

export function formatProblem(problem: Problem): FormattedProblem {
  const lines = problem.errors.map(formatProblemLine);
  const unlisted = problem.errorCount - problem.errors.length;
  const detailMentionsCount = problem.detail !== null && problem.detail.includes(String(problem.errorCount));
  if (unlisted > 0 && !detailMentionsCount) lines.push(`…and ${unlisted} more.`);
  return { title: problem.title, detail: problem.detail, lines };
}

/** One line of text: "Title: detail" (for places too small for the list). */
export function problemSummary(problem: Problem): string {
  return problem.detail ? `${problem.title}: ${problem.detail}` : problem.title;
}

function parseErrors(errors: unknown): ProblemLine[] {
  if (Array.isArray(errors)) {
    return errors.flatMap((e): ProblemLine[] => {
      if (typeof e === 'string') return [{ line: null, field: null, message: e }];
      if (!isRecord(e)) return [];
      const message = nonEmptyString(e['message']) ?? nonEmptyString(e['detail']);
      if (message === null) return [];
      const line = typeof e['line'] === 'number' && Number.isFinite(e['line']) ? e['line'] : null;
      const file = nonEmptyString(e['file']);
      return [file === null ? { line, field: nonEmptyString(e['field']), message } : { file, line, field: nonEmptyString(e['field']), message }];
    });
  }
  if (isRecord(errors)) {
    // ASP.NET validation problems: { "field": ["message", …] }
    return Object.entries(errors).flatMap(([field, messages]): ProblemLine[] => {
      const list = Array.isArray(messages) ? messages : [messages];
      return list
        .filter((m): m is string => typeof m === 'string' && m !== '')
        .map((message) => ({ line: null, field: field === '' ? null : field, message }));
    });
  }
  return [];
}

function statusTitle(status: number, statusText: string): string {
  if (status === 0) return 'The server cannot be reached';
  const text = statusText.trim() || KnownStatus[status];
  return text ? `${text} (HTTP ${status})` : `HTTP ${status}`;
}

const KnownStatus: Record<number, string> = {
  400: 'Bad request',
  401: 'Not signed in',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Request too large',
  422: 'Unprocessable request',
  429: 'Too many requests',
  500: 'Server error',
  502: 'Bad gateway',
  503: 'Service unavailable',
  504: 'Gateway timeout',
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}
