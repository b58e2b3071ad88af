import type { Json } from '../domain/index.js';
import type { DecisionSettings } from './decision-service.js';

/**
 * What people change at run time, over the config: paused actions and the kill switch. Kept in the store
 * (`setControl`) so a restart does not undo a pause, and applied to the decision settings in memory at once.
 */
export interface Controls {
  killSwitch: boolean;
  paused: ReadonlySet<string>;
}

export const KILL_SWITCH_KEY = 'kill-switch';
export const PAUSED_KEY = 'paused-actions';

export const noControls: Controls = { killSwitch: false, paused: new Set() };

export const controlsFrom = (stored: ReadonlyMap<string, Json>): Controls => {
  const paused = stored.get(PAUSED_KEY);
  return {
    killSwitch: stored.get(KILL_SWITCH_KEY) === true,
    paused: new Set(Array.isArray(paused) ? paused.filter((p): p is string => typeof p === 'string') : []),
  };
};

/** The config's decision settings with the run-time controls on top: a pause wins over `approved`. */
export const withControls = (settings: DecisionSettings, controls: Controls): DecisionSettings => ({
  ...settings,
  policy: { ...settings.policy, killSwitch: settings.policy.killSwitch || controls.killSwitch },
  actions: settings.actions.map((a) =>
    controls.paused.has(a.id) && a.status === 'approved' ? { ...a, status: 'paused' } : a,
  ),
});
