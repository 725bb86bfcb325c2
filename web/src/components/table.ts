/** A table whose body rows are keyed (see keyedList); cells are text only. */
import { el, setHidden, setText } from './dom';
import { mountKeyedList } from './keyedList';

export interface TableColumn<T> {
  readonly header: string;
  readonly cell: (row: T) => string;
  readonly class?: string;
}

export function mountTable<T>(
  parent: HTMLElement,
  options: { columns: readonly TableColumn<T>[]; key: (row: T) => string; testid?: string; caption?: string },
): { update(rows: readonly T[]): void } {
  const head = el('tr', {}, ...options.columns.map((c) => el('th', { attrs: { scope: 'col' }, text: c.header })));
  const body = el('tbody');
  const table = el('table', { class: 'data-table', ...(options.testid ? { testid: options.testid } : {}) });
  if (options.caption) table.append(el('caption', { text: options.caption }));
  table.append(el('thead', {}, head), body);
  parent.append(table);

  const rows = mountKeyedList<T>(body, options.key, () => {
    const cells = options.columns.map((c) => el('td', c.class ? { class: c.class } : {}));
    const tr = el('tr', {}, ...cells);
    return {
      el: tr,
      update(row) {
        options.columns.forEach((c, i) => setText(cells[i]!, c.cell(row)));
      },
    };
  });

  return {
    update(values) {
      rows.update(values);
      setHidden(table, values.length === 0);
    },
  };
}
