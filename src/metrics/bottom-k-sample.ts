// A uniform sample of fixed size from a stream: keep the `capacity` items of smallest priority,
// where an item's priority is a random (hashed) 32-bit integer. An item in the final sample was
// kept from its arrival on, since its priority is among the smallest of every prefix holding it.

export class BottomKSample {
  private readonly priorities: Int32Array;
  /** Slots, a max-heap by priority: the root is the next to go. */
  private readonly heap: Int32Array;
  size = 0;

  constructor(readonly capacity: number) {
    this.priorities = new Int32Array(capacity);
    this.heap = new Int32Array(capacity);
  }

  get full(): boolean {
    return this.size === this.capacity;
  }

  /** The slot (0 to capacity − 1) an item of this priority takes, or −1 if it is not kept. When the sample was full, the slot's previous item is dropped. */
  offer(priority: number): number {
    if (!this.full) {
      const slot = this.size++;
      this.priorities[slot] = priority;
      this.heap[slot] = slot;
      this.siftUp(slot);
      return slot;
    }
    const slot = this.heap[0];
    if (priority >= this.priorities[slot]) return -1;
    this.priorities[slot] = priority;
    this.siftDown(0);
    return slot;
  }

  private higher(i: number, j: number): boolean {
    return this.priorities[this.heap[i]] > this.priorities[this.heap[j]];
  }

  private swap(i: number, j: number): void {
    const t = this.heap[i];
    this.heap[i] = this.heap[j];
    this.heap[j] = t;
  }

  private siftUp(i: number): void {
    for (let parent = (i - 1) >> 1; i > 0 && this.higher(i, parent); i = parent, parent = (i - 1) >> 1)
      this.swap(i, parent);
  }

  private siftDown(i: number): void {
    for (;;) {
      const left = 2 * i + 1;
      let top = i;
      if (left < this.size && this.higher(left, top)) top = left;
      if (left + 1 < this.size && this.higher(left + 1, top)) top = left + 1;
      if (top === i) return;
      this.swap(i, top);
      i = top;
    }
  }
}
