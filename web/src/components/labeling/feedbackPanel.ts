/** What a training answer gets back at once: right or wrong, the correct labels, the guide's notes, running accuracy, and a completed part's mistakes. */
import type { TrainingFeedback } from '../../api/types';
import { noteTitle, partSummary, percent, type NameOf } from '../../logic/labeling';
import { hrefs } from '../../logic/routes';
import { el, setHidden, setText } from '../dom';
import { renderMarkdown } from '../markdownView';

export function mountFeedbackPanel(parent: HTMLElement, options: { taskId: number; name: NameOf; onContinue(): void }): { show(feedback: TrainingFeedback | null): void } {
  const verdict = el('p', { testid: 'labeling-verdict' });
  const correctLabels = el('p');
  const notes = el('div', { class: 'guide-notes' });
  const accuracy = el('p', { class: 'muted', testid: 'labeling-accuracy' });
  const mistakes = el('ul', { testid: 'labeling-mistakes' });
  const continueButton = el('button', { testid: 'labeling-continue', attrs: { type: 'button' }, text: 'Continue' });
  const box = el('div', { class: 'labeling-feedback', testid: 'labeling-feedback' }, verdict, correctLabels, notes, accuracy, mistakes, continueButton);
  box.hidden = true;
  parent.append(box);
  continueButton.addEventListener('click', options.onContinue);

  return {
    show(f) {
      setHidden(box, f === null);
      if (!f) return;
      setText(verdict, f.correct ? 'Right.' : 'Wrong.');
      verdict.dataset['correct'] = String(f.correct);
      setText(correctLabels, `Correct labels: ${f.correctLabels.map(options.name).join(', ')}`);
      notes.replaceChildren(...f.notes.map((n) => el('div', { class: 'guide-note' }, el('strong', { text: noteTitle(n, options.name) }), renderMarkdown(n.body))));
      setText(accuracy, `Running accuracy: ${percent(f.runningAccuracy)}`);
      const summary = partSummary((f.partMistakes as TrainingFeedback['partMistakes'] | null) ?? null, f.partComplete, options.name);
      mistakes.replaceChildren(
        ...(summary.heading ? [el('li', { text: summary.heading })] : []),
        ...summary.lines.map((m) => el('li', {}, el('a', { attrs: { href: `${hrefs.labelingTask(options.taskId)}?position=${m.position}` }, text: `#${m.position}` }), m.text)),
      );
      continueButton.focus();
    },
  };
}
