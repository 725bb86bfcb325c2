/**
 * What a board is graded on, in words: the scope's description from the API, a note when the dataset's 'annotated'
 * image set was chosen by default, and one when the paper's rule (original label judged wrong = problematic) is on.
 */
import type { BoardScope } from '../api/types';
import { el, setHidden, setText } from './dom';

export function mountScopeNotes(parent: HTMLElement): { update(scope: BoardScope | null): void } {
  const description = el('p', { testid: 'scope-description' });
  const chosen = el('p', { class: 'note', testid: 'scope-default-note' });
  const wrongOriginal = el('p', { class: 'note', testid: 'wrong-original-note' });
  parent.append(el('section', { class: 'scope', testid: 'scope' }, description, chosen, wrongOriginal));

  return {
    update(scope) {
      setText(description, scope?.description ?? '');
      const byDefault = scope !== null && scope.default && scope.imageSet !== null;
      setText(chosen, byDefault
        ? `The dataset's '${scope.imageSet}' image set was chosen by default (the images the imported annotation covers, as in the paper). Choose 'every image' to grade all images.`
        : '');
      setHidden(chosen, !byDefault);
      const rule = scope?.wrongOriginalIsProblematic ?? false;
      setText(wrongOriginal, rule
        ? `Images whose original label reviewers judged wrong count as problematic (the paper's rule, a dataset setting): ${scope?.wrongOriginalImages ?? 0} images.`
        : '');
      setHidden(wrongOriginal, !rule);
    },
  };
}
