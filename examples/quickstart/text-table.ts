/** Columns a string takes in a terminal: Hangul, CJK and full-width forms take two. */
export function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    const wide =
      (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) || (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) || (c >= 0xffe0 && c <= 0xffe6);
    w += wide ? 2 : 1;
  }
  return w;
}

function pad(text: string, width: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(text)));
  return align === 'right' ? fill + text : text + fill;
}

/**
 * An aligned plain-text table with a header rule. Columns whose every value looks numeric are
 * right-aligned.
 */
export function textTable(columns: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = rows.map((r) => columns.map((_, i) => (r[i] === null || r[i] === undefined ? '' : String(r[i]))));
  const widths = columns.map((c, i) => Math.max(displayWidth(c), ...cells.map((r) => displayWidth(r[i]!))));
  const numeric = columns.map((_, i) => cells.length > 0 && cells.every((r) => r[i] === '' || /^[-$]?\d[\d.,]*%?$/.test(r[i]!)));
  const line = (r: string[]) => r.map((c, i) => pad(c, widths[i]!, numeric[i] ? 'right' : 'left')).join('  ').trimEnd();
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
