// String literals: escapes (\" \\ \n \t) and interpolation. "layer{i + 1}" holds the
// expression `i + 1`, evaluated during elaboration; "{{" and "}}" stand for literal braces.

import type { IToken } from 'chevrotain';
import type { Expr } from './ast.js';
import type { Diagnostic } from './diagnostics.js';

/** Parses the text of one `{...}` hole that starts at the given line and column. */
export type EmbeddedParser = (
  text: string,
  file: string,
  line: number,
  column: number,
) => { expr?: Expr; diagnostics: Diagnostic[] };

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t', '{': '{' };

export function parseStringParts(
  tok: IToken,
  file: string,
  parseEmbedded: EmbeddedParser,
): { parts: (string | Expr)[]; diagnostics: Diagnostic[] } {
  const raw = tok.image.slice(1, -1);
  const line = tok.startLine ?? 1;
  const firstColumn = (tok.startColumn ?? 1) + 1;
  const parts: (string | Expr)[] = [];
  const diagnostics: Diagnostic[] = [];
  let text = '';
  let i = 0;
  const fail = (offset: number, length: number, message: string) =>
    diagnostics.push({ span: { file, line, column: firstColumn + offset, length }, message });

  while (i < raw.length) {
    const ch = raw[i]!;
    if (ch === '\\') {
      const escaped = ESCAPES[raw[i + 1] ?? ''];
      if (escaped === undefined) fail(i, 2, `invalid escape '\\${raw[i + 1] ?? ''}' in a string`);
      text += escaped ?? '';
      i += 2;
    } else if (ch === '{' && raw[i + 1] === '{') {
      text += '{';
      i += 2;
    } else if (ch === '}' && raw[i + 1] === '}') {
      text += '}';
      i += 2;
    } else if (ch === '{') {
      const close = raw.indexOf('}', i);
      if (close < 0) {
        fail(i, 1, "unclosed '{' in a string: close it with '}' or write '{{' for a brace");
        break;
      }
      if (text !== '') parts.push(text);
      text = '';
      const embedded = parseEmbedded(raw.slice(i + 1, close), file, line, firstColumn + i + 1);
      diagnostics.push(...embedded.diagnostics);
      if (embedded.expr) parts.push(embedded.expr);
      i = close + 1;
    } else if (ch === '}') {
      fail(i, 1, "unmatched '}' in a string: write '}}' for a brace");
      i += 1;
    } else {
      text += ch;
      i += 1;
    }
  }
  if (text !== '' || parts.length === 0) parts.push(text);
  return { parts, diagnostics };
}
