/**
 * The simulator's adapter: runs the pure simulator's customers (src/sim) against the real product (openRuntime,
 * its HTTP routes, its channels) and writes the report. Used by `pathwise simulate` and `npm run bench:learning`.
 */
export {
  simulate,
  loadScenarioFile,
  POLICIES,
  POLICY_LABELS,
  TAIL,
  type SimReport,
  type SimulateOptions,
  type PolicyKey,
} from './simulate.js';
export {
  runProduct,
  SimulationInterrupted,
  MESSAGE_OPENED,
  MESSAGE_CLICKED,
  type ProductRunOptions,
  type ProductRunResult,
} from './product-run.js';
export { checkWorkspace } from './workspace.js';
export { writeReport, reportHtml } from './report.js';
export { formatReport } from './table.js';
