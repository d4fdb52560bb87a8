// The report's number formatting lives in src/util/format.ts (analysis words its verdicts with it too).
export * from '../util/format.js';
