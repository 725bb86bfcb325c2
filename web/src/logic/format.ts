/** Number and text formatting shared by the pages. */

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 1000 -> "1,000". */
export function formatCount(n: number): string {
  return integer.format(n);
}

/** (1, "class", "classes") -> "1 class"; (1000, …) -> "1,000 classes". */
export function countOf(n: number, singular: string, plural: string): string {
  return `${formatCount(n)} ${n === 1 ? singular : plural}`;
}

/** 2048 -> "2.0 KiB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** The document title of a page: "Golden retriever · Relabel". */
export function pageTitle(...parts: readonly string[]): string {
  return [...parts.filter((p) => p !== ''), 'Relabel'].join(' · ');
}
