export { readJsonl } from './read-jsonl.js';
export { readCsv } from './read-csv.js';
export { planColumns, rowToCall, parseCell, type CsvPlan } from './csv-row.js';
export {
  runImport,
  importMessageId,
  type ImportOptions,
  type ImportProgress,
  type ImportReader,
  type ImportRecord,
  type ImportRejection,
  type ImportSummary,
} from './run-import.js';
