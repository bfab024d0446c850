// CSV as RFC 4180 writes it: fields separated by commas; a field holding a comma, a double quote,
// CR or LF is enclosed in double quotes, and a double quote inside is doubled. The reader takes
// one record per line (no line breaks inside quotes: file names and labels do not need them).

/** One field, quoted only where RFC 4180 requires it. */
export function csvField(value: string | number | boolean): string {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One record (no line ending). */
export function csvRecord(fields: readonly (string | number | boolean)[]): string {
  return fields.map(csvField).join(',');
}

/** The fields of one line, or undefined when its quotes are malformed. */
export function parseCsvLine(line: string): string[] | undefined {
  const fields: string[] = [];
  let p = 0;
  while (true) {
    if (line[p] === '"') {
      let s = '';
      p++;
      while (true) {
        const q = line.indexOf('"', p);
        if (q < 0) return undefined; // unterminated quote
        s += line.slice(p, q);
        if (line[q + 1] === '"') {
          s += '"';
          p = q + 2;
        } else {
          p = q + 1;
          break;
        }
      }
      if (p < line.length && line[p] !== ',') return undefined; // text after the closing quote
      fields.push(s);
    } else {
      const q = line.indexOf(',', p);
      const s = line.slice(p, q < 0 ? line.length : q);
      if (s.includes('"')) return undefined; // a quote inside an unquoted field
      fields.push(s);
      p = q < 0 ? line.length : q;
    }
    if (p >= line.length) return fields;
    p++; // the comma
    if (p === line.length) {
      fields.push('');
      return fields;
    }
  }
}
