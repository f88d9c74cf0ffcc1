import { MAX_PRIORITY } from './priority-policy.js';

/**
 * Fair turns among the callers waiting for one model: start-time fair queueing. Each admitted job takes a turn, a
 * number on a virtual clock (one per policy priority of the model): `max(clock, its caller's next turn)`; its caller's
 * next turn then comes `turnCost(weight)` later. A job that finds a free slot takes a turn too. The clock is the turn
 * of the job that last took a slot, so a caller that arrives behind another's backlog starts level with the job now
 * starting, ahead of the backlog (whose caller's running jobs already took their turns), and callers who keep
 * waiting alternate by weight. Whenever no job is waiting the numbers move back to 0 (`rebase`), so they stay small
 * however long the model stays busy.
 *
 * Both queues order a model's line by one number, `lineOrder`: the priority policy's number first (priority-policy.ts),
 * then the turn, then arrival. For BullMQ that number is the job's priority, so it must fit BullMQ's range
 * (MAX_PRIORITY): each policy priority gets a band of `span` turns, and a turn past its band saturates at the band's
 * end (arrival order among those, until the line empties). bullmq/admission.ts does the same in Lua, atomically; this
 * class is the in-process line's copy.
 */

/** A weight-1 caller's turn costs this many steps; weight w costs round(TURN_STEPS / w), at least 1. */
export const TURN_STEPS = 12;

/** How far a caller's next turn moves for each job: weights 1, 2, 3, 4, 6 and 12 are honoured exactly. */
export function turnCost(weight: number): number {
  return Math.max(1, Math.round(TURN_STEPS / (weight > 0 ? weight : 1)));
}

/** How a model's policy priorities (0..highest) and turns share BullMQ's priority range. */
export interface TurnScale {
  /** The largest policy priority; a larger one is ordered as this one. */
  readonly highest: number;
  /** Turn steps per policy priority; 1 leaves no room for turns (arrival order within a priority). */
  readonly span: number;
}

export function turnScale(highestPriority: number): TurnScale {
  const highest = Math.min(Math.max(0, Math.floor(highestPriority)), MAX_PRIORITY - 1);
  return { highest, span: Math.floor(MAX_PRIORITY / (highest + 1)) };
}

/** The number a line is ordered by (lower first; equal ones in arrival order): 1..MAX_PRIORITY. */
export function lineOrder(scale: TurnScale, priority: number, turn: number): number {
  return priorityClass(scale, priority) * scale.span + Math.min(turn, scale.span - 1) + 1;
}

/** The policy priority a job is ordered and given turns by: one above the highest counts as the highest. */
export function priorityClass({ highest }: TurnScale, priority: number): number {
  return Math.min(Math.max(0, priority), highest);
}

/** Callers who send jobs without saying who they are share one turn sequence, so their jobs keep arrival order. */
export const UNNAMED_CALLER = '';

/** One priority's clock and each caller's next turn at that priority. */
interface PriorityTurns {
  clock: number;
  readonly nextTurn: Map<string, number>;
}

/** How many callers' turns a model keeps: see CallerTurns.rebase and sweep. */
export interface TurnMemory {
  /** The model's max_concurrent: with nobody waiting, the most callers that can still hold a slot. */
  slots: number;
  /** Past this many callers at one priority, those whose turn has come are dropped: 2 × (max_concurrent + max_queued). */
  sweepAbove: number;
}

export function turnMemory(maxConcurrent: number, maxQueued: number): TurnMemory {
  return { slots: maxConcurrent, sweepAbove: 2 * (maxConcurrent + maxQueued) };
}

/**
 * One model's turns, kept per policy priority: a caller's jobs at one priority cost it no turns at another, since the
 * policy already decides between priorities.
 */
export class CallerTurns {
  private readonly byPriority = new Map<number, PriorityTurns>();

  constructor(
    readonly scale: TurnScale,
    private readonly memory: TurnMemory,
  ) {}

  /**
   * No job is waiting: moves every clock back to 0 and every next turn back with it, which changes no order (only
   * differences between turns count) but keeps the numbers small, and forgets the callers whose turn has come. More
   * callers left than slots means callers that came and went without waiting (a caller's turn only moves the clock
   * when its job is the latest to start): all are forgotten, so that many clients, once each, cost no memory.
   */
  rebase(): void {
    let callers = 0;
    for (const turns of this.byPriority.values()) {
      for (const [callerId, next] of turns.nextTurn) {
        if (next > turns.clock) turns.nextTurn.set(callerId, next - turns.clock);
        else turns.nextTurn.delete(callerId);
      }
      turns.clock = 0;
      callers += turns.nextTurn.size;
    }
    if (callers > this.memory.slots) for (const turns of this.byPriority.values()) turns.nextTurn.clear();
  }

  /** The turn a newcomer of this caller would take now. */
  turnOf(priority: number, callerId: string): number {
    const turns = this.byPriority.get(priorityClass(this.scale, priority));
    return turns ? Math.max(turns.clock, turns.nextTurn.get(callerId) ?? 0) : 0;
  }

  orderOf(priority: number, turn: number): number {
    return lineOrder(this.scale, priority, turn);
  }

  /** The newcomer was admitted with `turn` (from turnOf): its caller's next turn moves on by the cost of its weight. */
  take(priority: number, callerId: string, weight: number, turn: number): void {
    const turns = this.at(priority);
    turns.nextTurn.set(callerId, turn + turnCost(weight));
    if (turns.nextTurn.size > this.memory.sweepAbove) sweep(turns);
  }

  /** A job with this turn took a slot: no later newcomer of its priority takes an earlier turn. */
  started(priority: number, turn: number): void {
    const turns = this.at(priority);
    if (turn > turns.clock) turns.clock = turn;
  }

  /** The callers remembered now, over every priority. */
  get callers(): number {
    let callers = 0;
    for (const turns of this.byPriority.values()) callers += turns.nextTurn.size;
    return callers;
  }

  private at(priority: number): PriorityTurns {
    const key = priorityClass(this.scale, priority);
    let turns = this.byPriority.get(key);
    if (!turns) this.byPriority.set(key, (turns = { clock: 0, nextTurn: new Map() }));
    return turns;
  }
}

/** Drops the callers whose next turn the clock has reached: they would take the clock's turn anyway. */
function sweep(turns: PriorityTurns): void {
  for (const [callerId, next] of turns.nextTurn) if (next <= turns.clock) turns.nextTurn.delete(callerId);
}
