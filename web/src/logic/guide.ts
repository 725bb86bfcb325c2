/** Pure grouping of guide entries by WordNet branch. */

export interface PathRef {
  readonly wnid: string;
  readonly lemma: string;
}

export interface Branch {
  readonly wnid: string;
  readonly lemma: string;
  readonly notes: number;
}

/**
 * The branches one level below `under` (or below the root when null) that hold notes, with how many each holds,
 * in the order of their first note. Notes whose class is `under` itself belong to no branch.
 */
export function childBranches(paths: readonly (readonly PathRef[])[], under: string | null): Branch[] {
  const counts = new Map<string, { lemma: string; notes: number }>();
  for (const path of paths) {
    const at = under === null ? 0 : path.findIndex((p) => p.wnid === under) + 1;
    if (under !== null && at === 0) continue;
    const child = path[at];
    if (!child || (under === null && at === path.length - 1 && path.length > 1)) continue;
    const entry = counts.get(child.wnid) ?? { lemma: child.lemma, notes: 0 };
    entry.notes++;
    counts.set(child.wnid, entry);
  }
  return [...counts].map(([wnid, v]) => ({ wnid, lemma: v.lemma, notes: v.notes }));
}
