/**
 * A small ordered set (a treap: a binary search tree kept balanced in expectation by random
 * heap priorities) with O(log n) expected insert, delete, min, max and ceiling search. It
 * stands in for the `google/btree` that memberlist's broadcast queue uses. Priorities come
 * from a per-instance xorshift generator, so runs are deterministic.
 *
 * @module
 */

interface TreapNode<T> {
  item: T;
  priority: number;
  left: TreapNode<T> | null;
  right: TreapNode<T> | null;
}

/** Distinct items kept in the order of a comparator. */
export class OrderedSet<T> {
  readonly #compare: (a: T, b: T) => number;
  #root: TreapNode<T> | null = null;
  #size = 0;
  #seed = 0x9e3779b9;

  /** @param compare total order; items comparing equal are the same item */
  constructor(compare: (a: T, b: T) => number) {
    this.#compare = compare;
  }

  /** Number of items. */
  get size(): number {
    return this.#size;
  }

  /** Adds `item`; an item comparing equal to it must not be present. */
  insert(item: T): void {
    const [less, rest] = this.#split(this.#root, item);
    const node = { item, priority: this.#nextPriority(), left: null, right: null };
    this.#root = this.#merge(this.#merge(less, node), rest);
    this.#size++;
  }

  /** Removes the item comparing equal to `item`; returns whether one was present. */
  delete(item: T): boolean {
    let parent: TreapNode<T> | null = null;
    let node = this.#root;
    while (node) {
      const c = this.#compare(item, node.item);
      if (c === 0) break;
      parent = node;
      node = c < 0 ? node.left : node.right;
    }
    if (!node) return false;
    const joined = this.#merge(node.left, node.right);
    if (!parent) this.#root = joined;
    else if (parent.left === node) parent.left = joined;
    else parent.right = joined;
    this.#size--;
    return true;
  }

  /** The smallest item. */
  min(): T | undefined {
    let node = this.#root;
    while (node?.left) node = node.left;
    return node?.item;
  }

  /** The largest item. */
  max(): T | undefined {
    let node = this.#root;
    while (node?.right) node = node.right;
    return node?.item;
  }

  /** The smallest item `>= probe` in the set's order. */
  ceiling(probe: T): T | undefined {
    let node = this.#root;
    let best: T | undefined;
    while (node) {
      if (this.#compare(node.item, probe) >= 0) {
        best = node.item;
        node = node.left;
      } else {
        node = node.right;
      }
    }
    return best;
  }

  /** Removes every item. */
  clear(): void {
    this.#root = null;
    this.#size = 0;
  }

  /** Items in ascending order (do not modify the set while iterating). */
  *[Symbol.iterator](): IterableIterator<T> {
    const stack: TreapNode<T>[] = [];
    let node = this.#root;
    while (node || stack.length > 0) {
      while (node) {
        stack.push(node);
        node = node.left;
      }
      const top = stack.pop()!;
      yield top.item;
      node = top.right;
    }
  }

  // Splits into (items < key, items >= key).
  #split(node: TreapNode<T> | null, key: T): [TreapNode<T> | null, TreapNode<T> | null] {
    if (!node) return [null, null];
    if (this.#compare(node.item, key) < 0) {
      const [l, r] = this.#split(node.right, key);
      node.right = l;
      return [node, r];
    }
    const [l, r] = this.#split(node.left, key);
    node.left = r;
    return [l, node];
  }

  // Joins two treaps where every item of `a` is below every item of `b`.
  #merge(a: TreapNode<T> | null, b: TreapNode<T> | null): TreapNode<T> | null {
    if (!a) return b;
    if (!b) return a;
    if (a.priority > b.priority) {
      a.right = this.#merge(a.right, b);
      return a;
    }
    b.left = this.#merge(a, b.left);
    return b;
  }

  #nextPriority(): number {
    let x = this.#seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#seed = x >>> 0;
    return this.#seed;
  }
}
