// The public library API: re-exports only. Data flows ingest → model → analysis → report.
export type * from './model/types.js';
export { parseMallocStats, sniffMallocStats, MallocStatsReader } from './ingest/malloc-stats.js';
export type { MallocStatsOptions, MallocStatsResult } from './ingest/malloc-stats.js';
export { readInputFile, sniffFormat, FORMATS } from './ingest/index.js';
export { formatMallocStats, formatAllocatorSection } from './model/malloc-stats-text.js';
export { PYMALLOC_PARAMS, FREE_LIST_PARAMS, pymallocParams, blocksPerPool } from './model/params.js';
export { analyseDump } from './analysis/fragmentation.js';
export { buildReportData, renderReport } from './report/index.js';
export { CpymemError, InputError } from './util/errors.js';
export { openEventInput, sniffEventFormat, EVENT_FORMATS } from './ingest/index.js';
export { openEventsBundle, readBundleManifest, eventsOf, EventsBinDecoder } from './ingest/events-bundle.js';
export type { EventSource } from './ingest/events-bundle.js';
export { openEventsCsv, formatEventCsvRow, CSV_HEADER, CSV_COLUMNS } from './ingest/events-csv.js';
export { runCapture } from './capture/run.js';
export type { CaptureOptions, CaptureResult } from './capture/run.js';
