/**
 * A list whose children are keyed: an item keeps its element (and state, such as focus or a loaded
 * image) for as long as its key is present, and moves when the order changes.
 * The container must hold nothing but the list's items.
 */

export interface ListItem<T> {
  readonly el: Element;
  update(value: T): void;
}

export interface KeyedList<T> {
  update(values: readonly T[]): void;
  readonly size: number;
}

export function mountKeyedList<T>(
  container: Element,
  key: (value: T) => string,
  create: (value: T) => ListItem<T>,
): KeyedList<T> {
  let items = new Map<string, ListItem<T>>();

  return {
    update(values) {
      const next = new Map<string, ListItem<T>>();
      for (const value of values) {
        const k = key(value);
        if (next.has(k)) continue; // the first of duplicate keys wins
        const item = items.get(k) ?? create(value);
        item.update(value);
        next.set(k, item);
      }
      for (const [k, item] of items) if (!next.has(k)) item.el.remove();

      let position: Element | null = container.firstElementChild;
      for (const item of next.values()) {
        if (item.el === position) position = position.nextElementSibling;
        else container.insertBefore(item.el, position);
      }
      items = next;
    },
    get size() {
      return items.size;
    },
  };
}
