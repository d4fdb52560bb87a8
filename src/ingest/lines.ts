// The line splitting every push-based text reader shares: whole text and chunked streaming go
// through the same code, so a line cut across chunks reads as it would in one piece.

/**
 * Feed `chunk` after the unfinished `rest` of earlier chunks: call `onLine` for every complete line
 * (without its "\n") and return the new unfinished tail.
 */
export function feedLines(rest: string, chunk: string, onLine: (line: string) => void): string {
  // No line ends here: do not rescan what is waiting (a long line pushed in small chunks).
  if (chunk.indexOf('\n') < 0) return rest + chunk;
  const text = rest + chunk;
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) break;
    onLine(text.slice(start, nl));
    start = nl + 1;
  }
  return text.slice(start);
}
