/** Shows an API problem: its title, detail and the list of body errors ({line, field, message}). */
import { el, setHidden, setText } from './dom';
import { mountKeyedList } from './keyedList';
import { formatProblem, type Problem } from '../logic/problem';

export function mountProblemBox(parent: HTMLElement): { update(problem: Problem | null): void } {
  const title = el('strong', { class: 'problem-title' });
  const detail = el('p', { class: 'problem-detail' });
  const list = el('ul', { class: 'problem-lines' });
  const trace = el('p', { class: 'problem-trace' });
  const box = el('div', { class: 'problem', testid: 'problem', attrs: { role: 'alert' } }, title, detail, list, trace);
  box.hidden = true;
  parent.append(box);

  const lines = mountKeyedList<{ key: string; text: string }>(
    list,
    (line) => line.key,
    () => {
      const item = el('li');
      return { el: item, update: (line) => setText(item, line.text) };
    },
  );

  return {
    update(problem) {
      setHidden(box, problem === null);
      if (problem === null) {
        lines.update([]);
        return;
      }
      const formatted = formatProblem(problem);
      setText(title, formatted.title);
      setText(detail, formatted.detail ?? '');
      setHidden(detail, formatted.detail === null);
      lines.update(formatted.lines.map((text, i) => ({ key: `${i}:${text}`, text })));
      setHidden(list, formatted.lines.length === 0);
      setText(trace, problem.traceId ? `Trace id: ${problem.traceId}` : '');
      setHidden(trace, !problem.traceId);
    },
  };
}
