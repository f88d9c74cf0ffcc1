export type { AcquireOptions, DispatchLimits, DispatchQueue, DispatchSlot, DispatchStats } from './dispatch-queue.js';
export { InProcessDispatchQueue } from './in-process-dispatch-queue.js';
