/**
 * An RFC 4180 reader for tests, written independently of the csv-stringify writer the runner uses, so a round
 * trip checks the files as any other reader (pandas, R, a spreadsheet) would see them. Strict: a quote inside an
 * unquoted field or text after a closing quote is an error rather than a guess.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  const endRow = () => {
    rows.push(row);
    row = [];
  };
  while (i < text.length) {
    let field = "";
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error("CSV: unterminated quoted field");
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i++];
      }
      if (i < text.length && text[i] !== "," && text[i] !== "\n" && text[i] !== "\r")
        throw new Error(`CSV: text after a closing quote at ${i}`);
    } else {
      while (i < text.length && text[i] !== "," && text[i] !== "\n" && text[i] !== "\r") {
        if (text[i] === '"') throw new Error(`CSV: quote inside an unquoted field at ${i}`);
        field += text[i++];
      }
    }
    row.push(field);
    if (text[i] === ",") {
      i++;
      if (i === text.length) row.push("");
      continue;
    }
    if (text[i] === "\r") i++;
    if (text[i] === "\n") i++;
    endRow();
  }
  return rows;
}
