/** A place in a {@link PriorityLine}; `remove` takes it out wherever it is. */
export interface LinePlace<T> {
  readonly item: T;
  readonly priority: number;
  readonly arrival: number;
  /** Position in the heap; -1 once out of the line. */
  index: number;
}

/**
 * Waiting jobs, lowest priority number first and, within a priority, in arrival order (the queue's number is its
 * lineOrder: policy priority and caller's turn, caller-turns.ts). A binary heap whose
 * entries know their position, so that a client leaving mid-line costs O(log n) instead of a scan.
 */
export class PriorityLine<T> {
  private readonly heap: LinePlace<T>[] = [];
  private arrivals = 0;

  get size(): number {
    return this.heap.length;
  }

  /** How many would go before a newcomer of this priority: every place of a lower or equal number. */
  countAhead(priority: number): number {
    let ahead = 0;
    for (const place of this.heap) if (place.priority <= priority) ahead++;
    return ahead;
  }

  push(item: T, priority: number): LinePlace<T> {
    const place: LinePlace<T> = { item, priority, arrival: this.arrivals++, index: this.heap.length };
    this.heap.push(place);
    this.siftUp(place.index);
    return place;
  }

  shift(): T | undefined {
    const first = this.heap[0];
    if (first) this.removeAt(0);
    return first?.item;
  }

  /** Takes a place out of the line; false if it had already left. */
  remove(place: LinePlace<T>): boolean {
    if (place.index < 0 || this.heap[place.index] !== place) return false;
    this.removeAt(place.index);
    return true;
  }

  private removeAt(index: number): void {
    const removed = this.heap[index]!;
    const last = this.heap.pop()!;
    removed.index = -1;
    if (last === removed) return;
    this.heap[index] = last;
    last.index = index;
    this.siftDown(index);
    this.siftUp(last.index);
  }

  private before(a: LinePlace<T>, b: LinePlace<T>): boolean {
    return a.priority !== b.priority ? a.priority < b.priority : a.arrival < b.arrival;
  }

  private siftUp(index: number): void {
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.before(this.heap[index]!, this.heap[parent]!)) return;
      this.swap(index, parent);
      index = parent;
    }
  }

  private siftDown(index: number): void {
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let first = index;
      if (left < this.heap.length && this.before(this.heap[left]!, this.heap[first]!)) first = left;
      if (right < this.heap.length && this.before(this.heap[right]!, this.heap[first]!)) first = right;
      if (first === index) return;
      this.swap(index, first);
      index = first;
    }
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i]!;
    const b = this.heap[j]!;
    this.heap[i] = b;
    this.heap[j] = a;
    a.index = j;
    b.index = i;
  }
}
