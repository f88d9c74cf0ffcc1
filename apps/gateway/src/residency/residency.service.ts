import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { GatewayError, type StopSignal } from '#backends';
import type { DispatchQueue } from '#dispatch';
import { ModelRegistry, isSupervised, replicasOf, residencyOf, type ModelEntry, type Residency } from '#model-registry';
import { DISPATCH_QUEUE } from '../dispatch.providers.js';
import { EngineSupervisor } from '../engines/engine-supervisor.service.js';
import { placeOnGpu, type HeldBudget } from './gpu-placement.js';

/** One model the gateway runs itself: whether it holds its GPU budget now, and who uses it. */
interface Residence {
  readonly entry: ModelEntry;
  readonly residency: Residency;
  /** Its servers were started and hold the model's budget (until they have exited). */
  resident: boolean;
  /** An unload under way: the budget is held until it settles. */
  unloading: Promise<void> | null;
  residentSince: number;
  lastUsedAt: number | null;
  /** This gateway's requests past the residency gate that have not ended: waiting for ready, queued or running. */
  active: number;
  keepAliveTimer?: NodeJS.Timeout;
  /**
   * A request for another model waits for this one's memory, and could have it once this one's requests end: new
   * requests wait too until then (it goes, they load it again), so that a steady stream for one model cannot starve
   * the other. Renewed by the waiting request while it waits; lapses when it gives up.
   */
  claimedUntil: number;
  loads: number;
  unloads: number;
}

/** What /models shows of a model's residency. */
export interface ResidencyView {
  load: Residency['load'];
  resident: boolean;
  lastUsed: Date | null;
  keepAliveMs: number | null;
  minResidencyMs: number | null;
  loads: number;
  unloads: number;
}

/** What residency needs of the engine supervisor: starting and stopping a model's servers. */
export type ServerControl = Pick<EngineSupervisor, 'load' | 'unload'>;

/** A request's pass through the residency gate: release() once it has ended, however it ended. */
export type ResidencyRelease = () => void;

const NOTHING_TO_RELEASE: ResidencyRelease = () => undefined;
/** How often a request waiting for GPU memory looks again at models busy in the dispatch queue. */
const QUEUE_RECHECK_MS = 250;
/** Retry-After when no GPU memory could be freed within the request's deadline. */
const BUSY_RETRY_AFTER_S = 5;

/**
 * Which models the gateway runs itself are loaded, within their GPUs' memory. A request for a model that is not
 * loaded loads it (concurrent ones share that load) and waits within its deadline; when the budgets resident on the
 * model's GPU plus its own would exceed the GPU's `memory_gb`, idle models on demand there are unloaded first, least
 * recently used first — never one with requests in flight or queued (this gateway's, and the dispatch queue's count,
 * which for Redis spans every gateway), nor one loaded less than its `min_residency` ago. If none can go, the request
 * waits for one to, and past its deadline gets 503 with Retry-After. An idle model on demand unloads after its
 * `keep_alive`. A model whose start fails frees its budget; its requests get the reason (the serving path's 503).
 */
@Injectable()
export class ResidencyService implements OnApplicationShutdown {
  private readonly logger = new Logger('Residency');
  private readonly residences = new Map<string, Residence>();
  /**
   * Room being made: a request that unloads models for its own holds their budget, by model id, until it has started
   * its model, so that nobody waiting for those unloads takes the room first.
   */
  private readonly reservations = new Map<string, { gpuId: string; gb: number }>();
  /** Woken whenever budget may have been freed or a model became idle. */
  private waiters = new Set<() => void>();
  private closed = false;

  constructor(
    @Inject(ModelRegistry) private readonly registry: ModelRegistry,
    @Inject(EngineSupervisor) private readonly supervisor: ServerControl,
    @Inject(DISPATCH_QUEUE) private readonly queue: DispatchQueue,
  ) {
    for (const entry of registry.list()) {
      if (!replicasOf(entry.descriptor).every(isSupervised)) continue;
      const residency = residencyOf(entry.descriptor);
      const always = residency.load === 'always';
      const residence: Residence = {
        entry,
        residency,
        resident: always,
        unloading: null,
        residentSince: Date.now(),
        lastUsedAt: null,
        active: 0,
        claimedUntil: 0,
        loads: always ? 1 : 0,
        unloads: 0,
      };
      this.residences.set(entry.id, residence);
      entry.onChange((changed) => {
        if (changed.state === 'failed') this.freeFailed(residence);
      });
    }
  }

  /**
   * Lets a request for the model through once the model is loaded or loading; loads it first if needed (unloading idle
   * models to make room on its GPU). Rejects with 503 (Retry-After) when no room could be made by `deadline`, or
   * with the signal's reason when the client leaves.
   */
  /**
   * admit()'s answer where it has nothing to wait for (a server the gateway does not run, or one resident, unclaimed
   * and not going), without a promise: the hot path. Undefined otherwise: then admit() decides.
   */
  admitNow(entry: ModelEntry): ResidencyRelease | undefined {
    const residence = this.residences.get(entry.id);
    if (!residence) return NOTHING_TO_RELEASE;
    if (residence.resident && !residence.unloading && residence.claimedUntil <= Date.now())
      return this.enter(residence);
    return undefined;
  }

  async admit(entry: ModelEntry, signal: StopSignal, deadline: number): Promise<ResidencyRelease> {
    const residence = this.residences.get(entry.id);
    if (!residence) return NOTHING_TO_RELEASE; // a server the gateway does not run: always there
    for (;;) {
      if (signal.aborted) throw signal.reason;
      if (residence.unloading) {
        await residence.unloading;
        continue;
      }
      if (residence.resident && residence.claimedUntil <= Date.now()) return this.enter(residence);
      if (residence.resident) {
        await this.nextChange(residence, residence.claimedUntil, signal, deadline);
        continue;
      }
      const room = await this.makeRoom(residence);
      // The request that loaded the model holds it from that moment: nothing may push it out before it runs.
      if (room === 'placed') return this.releaser(residence);
      if (room === 'evicted') continue;
      await this.nextChange(residence, room.retryAt, signal, deadline);
    }
  }

  /** Loads the model now (POST /models/{id}/load) and holds it as a request would, until release. */
  load(entry: ModelEntry, signal: StopSignal, deadline: number): Promise<ResidencyRelease> {
    this.mustRun(entry);
    return this.admit(entry, signal, deadline);
  }

  /**
   * Unloads the model (POST /models/{id}/unload): new requests wait for it to go, then load it again; the ones in
   * flight or queued finish first. Resolves once its servers have exited.
   */
  async unload(entry: ModelEntry): Promise<void> {
    const residence = this.mustRun(entry);
    if (residence.unloading) return residence.unloading;
    if (!residence.resident) return;
    return this.startUnload(residence, 'unloaded by an admin', { drain: true });
  }

  /** The model's residency for /models; null for a server the gateway does not run. */
  view(modelId: string): ResidencyView | null {
    const residence = this.residences.get(modelId);
    if (!residence) return null;
    const onDemand = residence.residency.load === 'on_demand';
    return {
      load: residence.residency.load,
      resident: residence.resident,
      lastUsed: residence.lastUsedAt === null ? null : new Date(residence.lastUsedAt),
      keepAliveMs: onDemand ? residence.residency.keepAliveMs : null,
      minResidencyMs: onDemand ? residence.residency.minResidencyMs : null,
      loads: residence.loads,
      unloads: residence.unloads,
    };
  }

  /** The budgets held on a GPU now, by the models resident there (those the gateway does not run count always). */
  budgetInUseGb(gpuId: string): number {
    return this.registry
      .list()
      .filter((entry) => entry.descriptor.gpu === gpuId && this.holdsBudget(entry))
      .reduce((sum, entry) => sum + entry.descriptor.vramBudgetGb, 0);
  }

  private holdsBudget(entry: ModelEntry): boolean {
    const residence = this.residences.get(entry.id);
    return residence ? residence.resident : true;
  }

  private mustRun(entry: ModelEntry): Residence {
    const residence = this.residences.get(entry.id);
    if (residence) return residence;
    throw new GatewayError(
      'validation',
      `model "${entry.id}" is served by a ${entry.descriptor.backend.type} server the gateway does not run: it cannot load or unload it`,
      { status: 409 },
    );
  }

  private enter(residence: Residence): ResidencyRelease {
    this.hold(residence);
    return this.releaser(residence);
  }

  private hold(residence: Residence): void {
    residence.active += 1;
    residence.lastUsedAt = Date.now();
    clearTimeout(residence.keepAliveTimer);
  }

  /** Ends a hold, once. */
  private releaser(residence: Residence): ResidencyRelease {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      residence.active -= 1;
      residence.lastUsedAt = Date.now();
      if (residence.active === 0) {
        this.scheduleKeepAlive(residence);
        this.wake();
      }
    };
  }

  /**
   * Starts the model if it fits its GPU now ('placed'); else unloads what must go for it ('evicted', to try again);
   * else says when trying again could succeed (a minimum residency running out), or null: at the next change.
   */
  private async makeRoom(residence: Residence): Promise<'placed' | 'evicted' | { retryAt: number | null }> {
    const { descriptor } = residence.entry;
    const gpu = descriptor.gpu === null ? undefined : this.registry.config.gpus.find((g) => g.id === descriptor.gpu);
    if (!gpu) return this.place(residence);
    const onGpu = () =>
      this.registry
        .list()
        .filter((entry) => entry.id !== descriptor.id && entry.descriptor.gpu === gpu.id && this.holdsBudget(entry));
    const busy = await this.busyInQueue(onGpu().map((entry) => entry.id));
    // Things may have changed while the queue was asked: decide on what holds now.
    if (residence.resident || residence.unloading) return 'evicted';
    const now = Date.now();
    let retryAt: number | null = null;
    const held: HeldBudget[] = onGpu().map((entry) => {
      const other = this.residences.get(entry.id);
      const idle = other !== undefined && other.active === 0 && !busy.has(entry.id) && other.unloading === null;
      const onDemand = other?.residency.load === 'on_demand';
      const minimumEnds = other ? other.residentSince + other.residency.minResidencyMs : Infinity;
      if (idle && onDemand && minimumEnds > now) retryAt = Math.min(retryAt ?? Infinity, minimumEnds);
      return {
        id: entry.id,
        budgetGb: entry.descriptor.vramBudgetGb,
        evictable: idle && onDemand && minimumEnds <= now,
        lastUsedAt: other?.lastUsedAt ?? other?.residentSince ?? 0,
      };
    });
    for (const [id, reservation] of this.reservations)
      if (id !== descriptor.id && reservation.gpuId === gpu.id)
        held.push({ id, budgetGb: reservation.gb, evictable: false, lastUsedAt: now });
    const placement = placeOnGpu(gpu.memoryGb, held, descriptor.vramBudgetGb);
    if (!placement.fits) {
      this.claimBusy(held, gpu.memoryGb, descriptor.vramBudgetGb, now);
      // The dispatch queue's counts (Redis: other gateways' too) change with no event here: look again soon.
      return { retryAt: Math.min(retryAt ?? Infinity, now + QUEUE_RECHECK_MS) };
    }
    if (placement.evict.length === 0) return this.place(residence);
    this.reservations.set(descriptor.id, { gpuId: gpu.id, gb: descriptor.vramBudgetGb });
    try {
      await Promise.all(
        placement.evict.map((id) =>
          this.startUnload(this.residences.get(id)!, `GPU "${gpu.id}" memory needed by model "${descriptor.id}"`, {
            drain: false,
          }),
        ),
      );
    } finally {
      this.reservations.delete(descriptor.id);
    }
    // The room made is this request's: take it before anyone who was waiting for the unloads can.
    if (
      !residence.resident &&
      !residence.unloading &&
      this.budgetInUseGb(gpu.id) + descriptor.vramBudgetGb <= gpu.memoryGb + 1e-9
    )
      return this.place(residence);
    return 'evicted';
  }

  /**
   * Claims the models that could go for this one once their requests end (on demand, past their minimum residency),
   * if their going would make room: their new requests wait meanwhile (see Residence.claimedUntil).
   */
  private claimBusy(held: HeldBudget[], memoryGb: number, budgetGb: number, now: number): void {
    const claimable = held.map((model) => {
      const other = this.residences.get(model.id);
      const pastMinimum =
        other !== undefined &&
        other.resident &&
        other.residency.load === 'on_demand' &&
        other.unloading === null &&
        other.residentSince + other.residency.minResidencyMs <= now;
      return { ...model, evictable: pastMinimum };
    });
    const placement = placeOnGpu(memoryGb, claimable, budgetGb);
    if (!placement.fits) return;
    for (const id of placement.evict) this.residences.get(id)!.claimedUntil = now + 2 * QUEUE_RECHECK_MS;
  }

  private place(residence: Residence): 'placed' {
    if (!this.supervisor.load(residence.entry.id))
      throw new GatewayError('unavailable', 'the gateway is shutting down', { retryAfterS: BUSY_RETRY_AFTER_S });
    residence.resident = true;
    residence.residentSince = Date.now();
    residence.loads += 1;
    this.hold(residence);
    this.logger.log(`model ${residence.entry.id}: loading (${this.describeGpu(residence)})`);
    return 'placed';
  }

  private startUnload(residence: Residence, why: string, { drain }: { drain: boolean }): Promise<void> {
    clearTimeout(residence.keepAliveTimer);
    const unloading = (async () => {
      if (drain) await this.untilIdle(residence);
      await this.supervisor.unload(residence.entry.id);
      residence.resident = false;
      residence.claimedUntil = 0;
      residence.unloads += 1;
      this.logger.log(`model ${residence.entry.id}: unloaded (${why}; ${this.describeGpu(residence)})`);
    })().finally(() => {
      residence.unloading = null;
      this.wake();
    });
    residence.unloading = unloading;
    return unloading;
  }

  /** Until no request of the model is in flight or queued, here or (Redis) in any gateway. */
  private async untilIdle(residence: Residence): Promise<void> {
    while (residence.active > 0 || (await this.busyInQueue([residence.entry.id])).size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, 200);
        this.waiters.add(done);
        function done() {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  }

  /** The models among `ids` with jobs running, queued or admitted in the dispatch queue; unknown counts are busy. */
  private async busyInQueue(ids: string[]): Promise<Set<string>> {
    const busy = await Promise.all(
      ids.map(async (id) => {
        const stats = await this.queue.stats(id).catch(() => null);
        return stats === null || stats.inFlight + stats.queued + stats.admitted > 0;
      }),
    );
    return new Set(ids.filter((_, index) => busy[index]));
  }

  private scheduleKeepAlive(residence: Residence): void {
    const { load, keepAliveMs } = residence.residency;
    if (load !== 'on_demand' || !residence.resident || residence.unloading || this.closed) return;
    clearTimeout(residence.keepAliveTimer);
    residence.keepAliveTimer = setTimeout(() => {
      if (residence.active > 0 || !residence.resident || residence.unloading) return;
      void this.busyInQueue([residence.entry.id]).then((busy) => {
        if (busy.size > 0 || residence.active > 0 || !residence.resident || residence.unloading) return;
        return this.startUnload(residence, `idle for keep_alive ${keepAliveMs} ms`, { drain: false });
      });
    }, keepAliveMs);
    residence.keepAliveTimer.unref();
  }

  /** A model that could not start holds no memory: its budget goes back, its reason stays in its state. */
  private freeFailed(residence: Residence): void {
    if (residence.residency.load !== 'on_demand' || !residence.resident || residence.unloading) return;
    void this.startUnload(residence, `its start failed: ${residence.entry.status.lastError?.message ?? 'unknown'}`, {
      drain: false,
    });
  }

  /** Waits for a change that may make room (an unload, a model going idle), `retryAt`, or the deadline (503). */
  private nextChange(
    residence: Residence,
    retryAt: number | null,
    signal: StopSignal,
    deadline: number,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const finish = (error?: Error) => {
        this.waiters.delete(onChange);
        clearTimeout(retryTimer);
        clearTimeout(deadlineTimer);
        signal.removeEventListener('abort', onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onChange = () => finish();
      const onAbort = () => finish(signal.reason as Error);
      this.waiters.add(onChange);
      signal.addEventListener('abort', onAbort, { once: true });
      const retryTimer = retryAt === null ? undefined : setTimeout(onChange, Math.max(0, retryAt - Date.now()));
      const deadlineTimer = setTimeout(() => finish(this.noRoomError(residence)), Math.max(0, deadline - Date.now()));
    });
  }

  private noRoomError(residence: Residence): GatewayError {
    const { descriptor } = residence.entry;
    return new GatewayError(
      'unavailable',
      `model "${descriptor.id}" is not loaded and its ${descriptor.vramBudgetGb} GB do not fit GPU "${descriptor.gpu}" (${this.describeGpu(residence)}): the models there are busy or within their min_residency; retry later`,
      { retryAfterS: BUSY_RETRY_AFTER_S },
    );
  }

  private describeGpu(residence: Residence): string {
    const gpuId = residence.entry.descriptor.gpu;
    if (gpuId === null) return 'CPU';
    const gpu = this.registry.config.gpus.find((g) => g.id === gpuId)!;
    const resident = this.registry
      .list()
      .filter((entry) => entry.descriptor.gpu === gpuId && this.holdsBudget(entry))
      .map((entry) => `${entry.id} ${entry.descriptor.vramBudgetGb} GB`);
    return `GPU "${gpuId}": ${this.budgetInUseGb(gpuId)} of ${gpu.memoryGb} GB in use${resident.length ? ` by ${resident.join(', ')}` : ''}`;
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const waiter of waiters) waiter();
  }

  onApplicationShutdown(): void {
    this.closed = true;
    for (const residence of this.residences.values()) clearTimeout(residence.keepAliveTimer);
    this.wake();
  }
}
