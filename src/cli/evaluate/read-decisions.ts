import { statSync } from 'node:fs';
import { NOTHING } from '../../domain/index.js';
import { PathwiseError } from '../../errors.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import type { LogPass, LoggedRow, LogSource } from './logged-row.js';

/** Reward-log entries read per query. */
const PAGE = 1000;

/**
 * Pathwise's own decision log, from a SQLite store: every resolved decision in reward-log order (the order the
 * learner learned them), with its logged action (`__nothing__` for doing nothing), propensity, resolved reward
 * and the hashed features the model saw. Only decisions the policy made count (`exploit` and `explore`):
 * holdout, kill-switch and no-candidate decisions were not drawn from the policy with their logged propensity.
 * Unresolved decisions have no reward yet and are not in the reward log.
 */
export const decisionLogSource = (file: string): LogSource => {
  let stat;
  try {
    stat = statSync(file);
  } catch (err) {
    // Opening a missing file would create an empty database: refuse instead.
    throw new PathwiseError('PW_ERR_EVALUATE_DATA', `${file}: no such database file`, { cause: err });
  }
  if (!stat.isFile()) throw new PathwiseError('PW_ERR_EVALUATE_DATA', `${file}: not a file`);
  return { name: file, size: 0, open: () => openLog(file) };
};

const openLog = (file: string): LogPass => {
  let read = 0;
  return { rows: rows(file, () => read++), position: () => read };
};

async function* rows(file: string, tick: () => void): AsyncGenerator<LoggedRow> {
  const store = await openSqliteStore({ file, onWarning: () => {} });
  try {
    await store.migrate();
    let after = 0;
    for (;;) {
      const page = await store.read.resolvedSince(after, PAGE);
      for (const r of page) {
        after = r.resolvedSeq;
        tick();
        if (r.mode !== 'exploit' && r.mode !== 'explore') continue;
        const where = `decision ${r.decisionId} (reward log position ${r.resolvedSeq})`;
        if (!(r.propensity > 0 && r.propensity <= 1)) {
          throw new PathwiseError(
            'PW_ERR_EVALUATE_DATA',
            `${file} ${where}, column "propensity": ${r.propensity} is not a probability in (0, 1]`,
            { field: 'propensity' },
          );
        }
        yield {
          where,
          action: r.actionId ?? NOTHING,
          reward: r.reward,
          propensity: r.propensity,
          features: r.features,
        };
      }
      if (page.length < PAGE) break;
    }
  } finally {
    await store.close();
  }
}
