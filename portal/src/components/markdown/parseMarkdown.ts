/**
 * A small Markdown parser for template READMEs: headings, paragraphs, lists (nested), fenced and
 * indented code, block quotes, tables, rules, and inline code, emphasis, links and autolinks. It builds
 * a tree that is rendered as React elements, so raw HTML in the text stays text: nothing is ever set as
 * HTML.
 */

export type Inline =
  | { t: 'text'; text: string }
  | { t: 'code'; text: string }
  | { t: 'strong'; children: Inline[] }
  | { t: 'em'; children: Inline[] }
  | { t: 'link'; href: string; children: Inline[] };

export type Block =
  | { t: 'heading'; level: number; children: Inline[] }
  | { t: 'paragraph'; children: Inline[] }
  | { t: 'code'; lang: string | null; text: string }
  | { t: 'list'; ordered: boolean; start: number; items: Block[][] }
  | { t: 'quote'; children: Block[] }
  | { t: 'table'; align: ('left' | 'center' | 'right' | null)[]; head: Inline[][]; rows: Inline[][][] }
  | { t: 'rule' };

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+-]*)/;
const HEADING = /^ {0,3}(#{1,6})(?:\s+(.*?))?\s*#*\s*$/;
const RULE = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
const BULLET = /^( {0,3})([-*+])(\s+|$)/;
const ORDERED = /^( {0,3})(\d{1,9})[.)](\s+|$)/;
const QUOTE = /^ {0,3}> ?/;
const TABLE_SEP = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

const blank = (l: string) => l.trim() === '';
const indentOf = (l: string) => l.length - l.trimStart().length;

function splitRow(line: string): string[] {
  let s = line.trim();
  if (s.startsWith('|')) s = s.slice(1);
  if (s.endsWith('|') && !s.endsWith('\\|')) s = s.slice(0, -1);
  const cells: string[] = [];
  let cur = '';
  let inCode = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && s[i + 1] === '|') {
      cur += '|';
      i++;
    } else if (c === '`') {
      inCode = !inCode;
      cur += c;
    } else if (c === '|' && !inCode) {
      cells.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  cells.push(cur.trim());
  return cells;
}

function startsBlock(line: string, next: string | undefined): boolean {
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || BULLET.test(line) || ORDERED.test(line) || QUOTE.test(line) || (line.includes('|') && next !== undefined && TABLE_SEP.test(next) && next.includes('-'));
}

export function parseMarkdown(source: string): Block[] {
  return parseBlocks(source.replace(/\r\n?/g, '\n').replace(/\t/g, '    ').split('\n'));
}

function parseBlocks(lines: string[]): Block[] {
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (blank(line)) {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const marker = fence[1]!;
      const body: string[] = [];
      i++;
      while (i < lines.length && !lines[i]!.trimStart().startsWith(marker)) body.push(lines[i++]!);
      i++;
      blocks.push({ t: 'code', lang: fence[2] || null, text: body.join('\n') });
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      blocks.push({ t: 'heading', level: heading[1]!.length, children: parseInline(heading[2] ?? '') });
      i++;
      continue;
    }
    if (RULE.test(line)) {
      blocks.push({ t: 'rule' });
      i++;
      continue;
    }
    if (QUOTE.test(line)) {
      const body: string[] = [];
      while (i < lines.length && !blank(lines[i]!)) body.push(lines[i++]!.replace(QUOTE, ''));
      blocks.push({ t: 'quote', children: parseBlocks(body) });
      continue;
    }
    const next = lines[i + 1];
    if (line.includes('|') && next !== undefined && TABLE_SEP.test(next) && next.includes('-')) {
      const align = splitRow(next).map((c) => (c.startsWith(':') && c.endsWith(':') ? 'center' : c.endsWith(':') ? 'right' : c.startsWith(':') ? 'left' : null));
      const head = splitRow(line).map(parseInline);
      const rows: Inline[][][] = [];
      i += 2;
      while (i < lines.length && !blank(lines[i]!) && lines[i]!.includes('|')) {
        const cells = splitRow(lines[i++]!);
        rows.push(head.map((_, c) => parseInline(cells[c] ?? '')));
      }
      blocks.push({ t: 'table', align, head, rows });
      continue;
    }
    const bullet = BULLET.exec(line);
    const ordered = bullet ? null : ORDERED.exec(line);
    if (bullet || ordered) {
      const isOrdered = ordered !== null;
      const marker = isOrdered ? ORDERED : BULLET;
      const items: Block[][] = [];
      const start = ordered ? Number(ordered[2]) : 1;
      while (i < lines.length) {
        const m = marker.exec(lines[i]!);
        if (!m) break;
        const contentIndent = m[0].length;
        const body = [lines[i]!.slice(contentIndent)];
        i++;
        // The item goes on while lines are indented under it, or are lazy continuations of its text.
        while (i < lines.length) {
          const l = lines[i]!;
          if (blank(l)) {
            const after = lines.slice(i + 1).find((x) => !blank(x));
            if (after !== undefined && indentOf(after) >= contentIndent) {
              body.push('');
              i++;
              continue;
            }
            break;
          }
          if (indentOf(l) >= Math.min(contentIndent, 2)) body.push(l.slice(Math.min(indentOf(l), contentIndent)));
          else if (!startsBlock(l, lines[i + 1]) && !blank(body[body.length - 1]!)) body.push(l);
          else break;
          i++;
        }
        items.push(parseBlocks(body));
        // Blank lines between items keep the list going (a loose list).
        let j = i;
        while (j < lines.length && blank(lines[j]!)) j++;
        if (j > i && j < lines.length && marker.test(lines[j]!)) i = j;
      }
      blocks.push({ t: 'list', ordered: isOrdered, start, items });
      continue;
    }
    if (indentOf(line) >= 4) {
      const body: string[] = [];
      while (i < lines.length && (indentOf(lines[i]!) >= 4 || blank(lines[i]!))) body.push(lines[i++]!.slice(4));
      while (body.length && blank(body[body.length - 1]!)) body.pop();
      blocks.push({ t: 'code', lang: null, text: body.join('\n') });
      continue;
    }
    const para: string[] = [line.trim()];
    i++;
    while (i < lines.length && !blank(lines[i]!) && !startsBlock(lines[i]!, lines[i + 1])) para.push(lines[i++]!.trim());
    blocks.push({ t: 'paragraph', children: parseInline(para.join(' ')) });
  }
  return blocks;
}

/** Inline markup. Unknown or unsafe constructs stay as their text. */
export function parseInline(text: string): Inline[] {
  const out: Inline[] = [];
  let buf = '';
  const flush = () => {
    if (buf) out.push({ t: 'text', text: buf });
    buf = '';
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length && /[\\`*_[\]()#+\-.!<>|{}~]/.test(text[i + 1]!)) {
      buf += text[i + 1];
      i += 2;
      continue;
    }
    if (c === '`') {
      const run = /^`+/.exec(text.slice(i))![0];
      const end = text.indexOf(run, i + run.length);
      if (end > 0) {
        flush();
        const code = text.slice(i + run.length, end);
        out.push({ t: 'code', text: code.length > 2 && code.startsWith(' ') && code.endsWith(' ') ? code.slice(1, -1) : code });
        i = end + run.length;
        continue;
      }
    }
    if (c === '<') {
      const auto = /^<((?:https?:\/\/|mailto:)[^\s<>]+)>/.exec(text.slice(i));
      if (auto) {
        flush();
        out.push({ t: 'link', href: auto[1]!, children: [{ t: 'text', text: auto[1]!.replace(/^mailto:/, '') }] });
        i += auto[0].length;
        continue;
      }
    }
    if (c === '[') {
      const close = matching(text, i, '[', ']');
      if (close > 0 && text[close + 1] === '(') {
        const end = matching(text, close + 1, '(', ')');
        if (end > 0) {
          const target = text.slice(close + 2, end).trim();
          const href = /^<?([^\s>]*)>?(?:\s+["'(].*)?$/.exec(target)?.[1] ?? '';
          flush();
          out.push({ t: 'link', href, children: parseInline(text.slice(i + 1, close)) });
          i = end + 1;
          continue;
        }
      }
    }
    if (c === '*' || c === '_') {
      const strong = text.startsWith(c + c, i);
      const marker = strong ? c + c : c;
      const end = findClose(text, i + marker.length, marker);
      // Intraword underscores (snake_case) are not emphasis.
      const wordBefore = c === '_' && i > 0 && /\w/.test(text[i - 1]!);
      if (end > i + marker.length && !wordBefore && !/\s/.test(text[i + marker.length]!)) {
        flush();
        const children = parseInline(text.slice(i + marker.length, end));
        out.push(strong ? { t: 'strong', children } : { t: 'em', children });
        i = end + marker.length;
        continue;
      }
    }
    buf += c;
    i++;
  }
  flush();
  return out;
}

function matching(text: string, at: number, open: string, close: string): number {
  let depth = 0;
  for (let i = at; i < text.length; i++) {
    if (text[i] === '\\') {
      i++;
      continue;
    }
    if (text[i] === '`') {
      const end = text.indexOf('`', i + 1);
      if (end > 0) i = end;
      continue;
    }
    if (text[i] === open) depth++;
    else if (text[i] === close && --depth === 0) return i;
  }
  return -1;
}

function findClose(text: string, from: number, marker: string): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === '\\') {
      i++;
      continue;
    }
    if (text[i] === '`') {
      const end = text.indexOf('`', i + 1);
      if (end > 0) i = end;
      continue;
    }
    if (text.startsWith(marker, i) && !/\s/.test(text[i - 1]!)) {
      if (marker.length === 1 && text[i + 1] === marker) {
        i++;
        continue;
      }
      if (marker === '_' && i + 1 < text.length && /\w/.test(text[i + 1]!)) continue;
      return i;
    }
  }
  return -1;
}
