/** The import kinds of the Imports page: where each one is sent and as what. Pure, tested. */
export type ImportKind = 'multilabel' | 'rater-votes' | 'golden-votes' | 'reference-labels' | 'bundle';

export interface ImportTarget {
  readonly method: 'POST' | 'PUT';
  readonly path: string;
  readonly contentType: string;
  readonly gzip: boolean;
}

export const importKinds: readonly { kind: ImportKind; label: string }[] = [
  { kind: 'multilabel', label: 'Multi-label release (ICML 2020 JSON)' },
  { kind: 'rater-votes', label: 'Rater votes (CSV: file_name,wnid,rater,answer)' },
  { kind: 'golden-votes', label: 'Expert answers to control questions (same CSV)' },
  { kind: 'reference-labels', label: 'Reference multi-labels (ReaL real.json)' },
  { kind: 'bundle', label: 'Portable bundle (.tar.gz of another Relabel; names its own datasets)' },
];

/** Whether an import goes into the chosen dataset (a bundle brings its own). */
export function needsDataset(kind: ImportKind): boolean {
  return kind !== 'bundle';
}

export function importTarget(kind: ImportKind, dataset: string, fileName: string, source: string): ImportTarget {
  const gzip = fileName.toLowerCase().endsWith('.gz');
  const base = `/api/datasets/${encodeURIComponent(dataset)}`;
  switch (kind) {
    case 'multilabel':
      return { method: 'POST', path: `${base}/import/multilabel?source=${encodeURIComponent(source || 'icml2020')}`, contentType: 'application/json', gzip };
    case 'rater-votes':
      return { method: 'POST', path: `${base}/import/rater-votes`, contentType: 'text/csv', gzip };
    case 'golden-votes':
      return { method: 'POST', path: `${base}/import/rater-votes?golden=true`, contentType: 'text/csv', gzip };
    case 'reference-labels':
      return { method: 'PUT', path: `${base}/reference-labels`, contentType: 'application/json', gzip };
    case 'bundle':
      // The file is the gzip archive itself, not a compressed transfer of something else.
      return { method: 'POST', path: '/api/import/bundle', contentType: fileName.toLowerCase().endsWith('.tar') ? 'application/x-tar' : 'application/gzip', gzip: false };
  }
}

export interface ExportLink {
  readonly key: 'bundle' | 'multilabel' | 'real';
  readonly label: string;
  readonly href: string;
  readonly fileName: string;
}

/** The downloads offered for a dataset: the portable bundle (admins) and the published formats. */
export function exportLinks(dataset: string): readonly ExportLink[] {
  const base = `/api/datasets/${encodeURIComponent(dataset)}/export`;
  return [
    { key: 'bundle', label: 'Portable bundle (.tar.gz: labels, models, predictions, every verdict; with the shift partner)', href: `${base}/bundle`, fileName: `${dataset}-bundle.tar.gz` },
    { key: 'multilabel', label: 'Multi-label release (ICML 2020 JSON)', href: `${base}/multilabel`, fileName: `${dataset}-multilabel.json` },
    { key: 'real', label: 'Reference labels (ReaL real.json, when imported)', href: `${base}/real`, fileName: `${dataset}-real.json` },
  ];
}

/** A job's progress as a fraction and a sentence. */
export function describeJob(job: { status: string; done: number; total: number; message: string }): { fraction: number; text: string } {
  const fraction = job.status === 'succeeded' ? 1 : job.total > 0 ? Math.min(1, job.done / job.total) : 0;
  const counts = job.total > 0 ? ` (${job.done.toLocaleString('en')} of ${job.total.toLocaleString('en')})` : '';
  const text = job.status === 'succeeded' ? 'Done.'
    : job.status === 'failed' ? `Failed: ${job.message}`
    : job.status === 'queued' ? 'Waiting to start…'
    : `${job.message || 'Working'}${counts}`;
  return { fraction, text };
}
