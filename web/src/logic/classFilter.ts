/**
 * Client-side search over a label space: case-insensitive over lemmas and wnids,
 * best matches first (exact, then prefix, then word prefix, then substring), class-index order within a rank.
 */

export interface FilterableClass {
  readonly index: number;
  readonly wnid: string;
  readonly lemmas: readonly string[];
}

export const MatchRank = { Exact: 0, Prefix: 1, WordPrefix: 2, Substring: 3 } as const;
export type MatchRank = (typeof MatchRank)[keyof typeof MatchRank];

/** Lower case, underscores as spaces (WordNet writes "golden_retriever"), whitespace collapsed. */
export function normalizeSearch(text: string): string {
  return text.toLowerCase().replace(/_/g, ' ').replace(/\s+/g, ' ').trim();
}

/** How well a class matches a normalized query, or null when it does not. */
export function matchRank(item: FilterableClass, query: string): MatchRank | null {
  if (query === '') return MatchRank.Exact;
  const wnid = item.wnid.toLowerCase();
  const lemmas = item.lemmas.map(normalizeSearch);
  if (wnid === query || lemmas.includes(query)) return MatchRank.Exact;
  if (wnid.startsWith(query) || lemmas.some((l) => l.startsWith(query))) return MatchRank.Prefix;
  if (lemmas.some((l) => l.split(/[\s-]/).some((word) => word.startsWith(query)))) return MatchRank.WordPrefix;
  if (wnid.includes(query) || lemmas.some((l) => l.includes(query))) return MatchRank.Substring;
  return null;
}

/** The classes matching the search text, best first; all of them, in their order, for blank text. */
export function filterClasses<T extends FilterableClass>(classes: readonly T[], text: string): T[] {
  const query = normalizeSearch(text);
  if (query === '') return classes.slice();
  const ranked: { item: T; rank: MatchRank; position: number }[] = [];
  classes.forEach((item, position) => {
    const rank = matchRank(item, query);
    if (rank !== null) ranked.push({ item, rank, position });
  });
  ranked.sort((a, b) => a.rank - b.rank || a.position - b.position);
  return ranked.map((r) => r.item);
}
