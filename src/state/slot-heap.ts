/**
 * A binary min-heap of slot numbers ordered by a per-slot priority, which knows where each slot
 * sits, so that any slot can be removed in O(log n). Typed arrays: no object per entry
 * (the replay store keeps a million marks in two of them).
 */
export class SlotHeap {
  /** heap position → slot */
  #heap: Int32Array;
  /** slot → heap position */
  #position: Int32Array;
  /** slot → priority */
  #priority: Float64Array;
  #size = 0;

  constructor(slots: number) {
    this.#heap = new Int32Array(slots);
    this.#position = new Int32Array(slots);
    this.#priority = new Float64Array(slots);
  }

  get size(): number {
    return this.#size;
  }

  grow(slots: number): void {
    const heap = new Int32Array(slots);
    heap.set(this.#heap);
    this.#heap = heap;
    const position = new Int32Array(slots);
    position.set(this.#position);
    this.#position = position;
    const priority = new Float64Array(slots);
    priority.set(this.#priority);
    this.#priority = priority;
  }

  /** The slot with the lowest priority; only when size > 0. */
  peek(): number {
    return this.#heap[0]!;
  }

  priorityOf(slot: number): number {
    return this.#priority[slot]!;
  }

  push(slot: number, priority: number): void {
    this.#priority[slot] = priority;
    const at = this.#size++;
    this.#place(slot, at);
    this.#up(at);
  }

  /** Removes `slot`, which must be in the heap. */
  remove(slot: number): void {
    const at = this.#position[slot]!;
    const last = this.#heap[--this.#size]!;
    if (at === this.#size) return;
    this.#place(last, at);
    if (at > 0 && this.#less(last, this.#heap[(at - 1) >> 1]!)) this.#up(at);
    else this.#down(at);
  }

  #less(a: number, b: number): boolean {
    return this.#priority[a]! < this.#priority[b]!;
  }

  #place(slot: number, at: number): void {
    this.#heap[at] = slot;
    this.#position[slot] = at;
  }

  #up(at: number): void {
    const slot = this.#heap[at]!;
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parent = this.#heap[parentAt]!;
      if (!this.#less(slot, parent)) break;
      this.#place(parent, at);
      at = parentAt;
    }
    this.#place(slot, at);
  }

  #down(at: number): void {
    const slot = this.#heap[at]!;
    for (;;) {
      let childAt = 2 * at + 1;
      if (childAt >= this.#size) break;
      if (childAt + 1 < this.#size && this.#less(this.#heap[childAt + 1]!, this.#heap[childAt]!)) childAt++;
      const child = this.#heap[childAt]!;
      if (!this.#less(child, slot)) break;
      this.#place(child, at);
      at = childAt;
    }
    this.#place(slot, at);
  }
}
