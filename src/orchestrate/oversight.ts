import type { AuditEntry, JsonObject } from '../domain/index.js';
import type { Page, Store } from '../store/index.js';
import { PathwiseError } from '../errors.js';
import { controlsFrom, KILL_SWITCH_KEY, PAUSED_KEY, type Controls } from './controls.js';
import type { DecisionService } from './decision-service.js';

export interface OversightResult {
  change: string;
  target: string;
  /** Queued deliveries cancelled by this change. */
  cancelled: number;
}

/**
 * Human oversight at run time: pause and resume an action, the kill switch. Each change is stored (it survives
 * a restart), audited, and cancels the queued deliveries it stops, in one transaction; the decision service
 * applies it to the next decision at once, and the dispatcher checks it before every send.
 */
export class Oversight {
  private controls: Controls = { killSwitch: false, paused: new Set() };

  constructor(
    private readonly deps: {
      store: Store;
      decisions: DecisionService;
      now: () => number;
      newId: () => string;
    },
  ) {}

  /** Loads the stored controls (at start). */
  async load(): Promise<void> {
    this.controls = controlsFrom(await this.deps.store.read.controls());
    this.deps.decisions.setControls(this.controls);
  }

  get current(): Controls {
    return this.controls;
  }

  pause(actionId: string, actor: string): Promise<OversightResult> {
    this.known(actionId);
    const paused = new Set(this.controls.paused).add(actionId);
    return this.apply({ ...this.controls, paused }, actor, 'action.pause', actionId);
  }

  resume(actionId: string, actor: string): Promise<OversightResult> {
    this.known(actionId);
    const paused = new Set(this.controls.paused);
    paused.delete(actionId);
    return this.apply({ ...this.controls, paused }, actor, 'action.resume', actionId);
  }

  killSwitch(on: boolean, actor: string): Promise<OversightResult> {
    return this.apply(
      { ...this.controls, killSwitch: on },
      actor,
      on ? 'kill-switch.on' : 'kill-switch.off',
      '*',
    );
  }

  /** Records a change made elsewhere (a config reload) in the same audit log. */
  async record(actor: string, change: string, target: string, detail: JsonObject): Promise<void> {
    const entry: AuditEntry = { id: this.deps.newId(), at: this.deps.now(), actor, change, target, detail };
    await this.deps.store.write((w) => w.addAudit(entry));
  }

  audit(opts: { cursor?: string; limit: number }): Promise<Page<AuditEntry>> {
    return this.deps.store.read.auditLog(opts);
  }

  private known(actionId: string): void {
    if (!this.deps.decisions.current.byId.has(actionId)) {
      throw new PathwiseError('PW_ERR_ACTION_NOT_FOUND', JSON.stringify(actionId), { field: 'id' });
    }
  }

  private async apply(
    next: Controls,
    actor: string,
    change: string,
    target: string,
  ): Promise<OversightResult> {
    const now = this.deps.now();
    const cancelled = await this.deps.store.write(async (w) => {
      await w.setControl(KILL_SWITCH_KEY, next.killSwitch);
      await w.setControl(PAUSED_KEY, [...next.paused].sort());
      let n = 0;
      if (change === 'action.pause')
        n = (await w.cancelDeliveries({ actionId: target }, `${target} was paused`, now)).length;
      if (change === 'kill-switch.on') {
        for (const a of this.deps.decisions.current.actions)
          n += (await w.cancelDeliveries({ actionId: a.id }, 'the kill switch is on', now)).length;
      }
      await w.addAudit({ id: this.deps.newId(), at: now, actor, change, target, detail: { cancelled: n } });
      return n;
    });
    this.controls = next;
    this.deps.decisions.setControls(next);
    return { change, target, cancelled };
  }
}
