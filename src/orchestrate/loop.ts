import { closeChannels } from '../channels/index.js';
import { Dispatcher, type DispatcherDeps } from './dispatcher.js';
import { Engine } from './engine.js';

export interface LoopDeps extends DispatcherDeps {
  /** How often due timers and deliveries are looked for; short, so a pause stops sends within a second. */
  intervalMs: number;
}

/** The engine's background loop: fire due timers (decisions, response windows), then deliver due messages. */
export class EngineLoop {
  readonly engine: Engine;
  readonly dispatcher: Dispatcher;
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  private timersPass: Promise<unknown> | undefined;
  private readonly sending = new Set<Promise<unknown>>();

  constructor(private readonly deps: LoopDeps) {
    this.engine = new Engine(deps);
    this.dispatcher = new Dispatcher(deps);
  }

  /** One pass: every due timer, then every due delivery (tests call this instead of start()). */
  runOnce(): Promise<void> {
    this.pass ??= (async () => {
      try {
        await this.engine.tick();
        await this.dispatcher.tick();
      } catch (err) {
        this.deps.onError(err, 'engine loop');
      } finally {
        this.pass = undefined;
      }
    })();
    return this.pass;
  }

  start(): void {
    if (this.timer !== undefined) return;
    const beat = () => {
      // Timers and deliveries on their own beats: a slow provider never holds up decisions (or other sends).
      this.timersPass ??= this.engine
        .tick()
        .catch((err: unknown) => this.deps.onError(err, 'timers'))
        .finally(() => (this.timersPass = undefined));
      const sends = this.dispatcher
        .tick()
        .catch((err: unknown) => this.deps.onError(err, 'deliveries'))
        .finally(() => this.sending.delete(sends));
      this.sending.add(sends);
    };
    beat(); // timers that came due while the process was down fire now
    this.timer = setInterval(beat, this.deps.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all([this.pass, this.timersPass, ...this.sending]);
    await closeChannels(this.deps.channels);
  }
}
