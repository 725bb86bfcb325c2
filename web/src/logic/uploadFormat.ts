/**
 * How a predictions file is sent: its content type from the extension (".json", ".csv", ".ndjson"/".jsonl"),
 * and whether it is gzipped (".gz", sent as is with Content-Encoding: gzip, the server decompresses it).
 */

export interface UploadFormat {
  readonly contentType: 'application/json' | 'text/csv' | 'application/x-ndjson';
  readonly gzip: boolean;
}

export function uploadFormatOf(fileName: string): UploadFormat | null {
  let name = fileName.trim().toLowerCase();
  const gzip = name.endsWith('.gz');
  if (gzip) name = name.slice(0, -3);
  if (name.endsWith('.json')) return { contentType: 'application/json', gzip };
  if (name.endsWith('.csv')) return { contentType: 'text/csv', gzip };
  if (name.endsWith('.ndjson') || name.endsWith('.jsonl')) return { contentType: 'application/x-ndjson', gzip };
  return null;
}

/** 0.5 -> "50%"; 0.0123 -> "1.2%". */
export function formatPercent(fraction: number): string {
  const percent = fraction * 100;
  return `${percent >= 10 || percent === 0 ? percent.toFixed(0) : percent.toFixed(1)}%`;
}
