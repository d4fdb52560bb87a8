// The time a log collector wrote in front of a line: CPython prints no clock in its gc lines, but a
// service's log reaches its user through docker, kubernetes, journald or Python's logging, each of
// which stamps every line. Read from the stamps, a log has a span, and collections have times and a
// rate per minute. Written by hand: the few layouts are fixed, and a date library would parse far
// more than these and cost per line.

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// RFC 3339 / ISO 8601 (docker, kubectl --timestamps, most JSON loggers) and Python logging's
// default asctime ("2026-11-25 12:00:01,123"); no zone: taken as UTC (only differences are used).
const ISO_RE = /^\W{0,2}(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(Z|[+-]\d\d:?\d\d)?/;
// syslog / journalctl short ("Nov 25 12:00:01 host prog[pid]: "), no year; "short-precise" adds µs.
const SYSLOG_RE = /^\W{0,2}(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?/;

/** Seconds since the epoch (syslog: since the start of year 2000) of the stamp a line starts with. */
export function lineTime(line: string): number | undefined {
  const iso = ISO_RE.exec(line);
  if (iso) {
    const [, y, mo, d, h, mi, s, frac, zone] = iso;
    let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) / 1000;
    if (frac) t += Number(frac) / 10 ** frac.length;
    if (zone && zone !== 'Z') {
      const z = /([+-])(\d\d):?(\d\d)/.exec(zone)!;
      t -= (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 3600 + Number(z[3]) * 60);
    }
    return Number.isFinite(t) ? t : undefined;
  }
  const m = SYSLOG_RE.exec(line);
  if (!m) return undefined;
  const [, mon, d, h, mi, s, frac] = m;
  let t = Date.UTC(2000, MONTHS.indexOf(mon!), Number(d), Number(h), Number(mi), Number(s)) / 1000;
  if (frac) t += Number(frac) / 10 ** frac.length;
  return t;
}

/** Characters of the collector's stamp a line starts with (0: none), for stripping it. */
export function stampLength(line: string): number {
  return (ISO_RE.exec(line) ?? SYSLOG_RE.exec(line))?.[0].length ?? 0;
}
