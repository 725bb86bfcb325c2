/**
 * The review queues (pending, conflicts, problematic) as links: each queue has its own address, and the keyboard
 * shortcuts stay with the review.
 */
import { el, setAttr } from '../dom';
import { REVIEW_MODES, type ReviewMode } from '../../logic/adjudication';
import { hrefs } from '../../logic/routes';

export function mountQueueSwitch(parent: HTMLElement, query: { dataset: string; subset: string | null }): { update(mode: ReviewMode): void } {
  const links = REVIEW_MODES.map((m) => ({
    mode: m.value,
    anchor: el('a', {
      class: 'review-mode',
      attrs: { href: hrefs.reviewQueue(query.dataset, { subset: query.subset, mode: m.value }), 'data-mode': m.value },
      text: m.label,
    }),
  }));
  parent.append(el('nav', { class: 'review-modes', testid: 'review-modes', attrs: { 'aria-label': 'Review queue' } }, ...links.map((l) => l.anchor)));
  return {
    update(mode) {
      for (const l of links) setAttr(l.anchor, 'aria-current', l.mode === mode ? 'page' : null);
    },
  };
}
