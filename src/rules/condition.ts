/**
 * Sigma's condition grammar: `and`, `or`, `not`, parentheses, `1 of <pattern>`, `all of <pattern>`,
 * `1 of them`, `all of them` (and `N of`). Precedence: not > and > or. Patterns match search
 * identifiers with `*` wildcards; `them` leaves out identifiers starting with `_`.
 */
export type ConditionNode =
  | { op: 'and' | 'or'; items: ConditionNode[] }
  | { op: 'not'; item: ConditionNode }
  | { op: 'ref'; name: string }
  | { op: 'of'; count: number | 'all'; pattern: string };

export class ConditionError extends Error {}

type Token = { kind: 'word'; text: string; at: number } | { kind: 'paren'; text: '(' | ')'; at: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:([()])|([^\s()]+))/y;
  let m: RegExpExecArray | null;
  re.lastIndex = 0;
  while (re.lastIndex < text.length && (m = re.exec(text))) {
    if (m[1]) tokens.push({ kind: 'paren', text: m[1] as '(' | ')', at: m.index });
    else if (m[2]) tokens.push({ kind: 'word', text: m[2], at: m.index });
    else break;
  }
  if (text.slice(re.lastIndex).trim() !== '') throw new ConditionError(`cannot read the condition after position ${re.lastIndex}`);
  return tokens;
}

export function parseCondition(text: string): ConditionNode {
  if (text.includes('|'))
    throw new ConditionError(
      "the '| count() …' aggregation of Sigma 1 is not supported; write a correlation rule (event_count, value_count)",
    );
  const tokens = tokenize(text);
  let i = 0;
  const peekWord = () => {
    const t = tokens[i];
    return t?.kind === 'word' ? t.text.toLowerCase() : undefined;
  };
  const expect = (what: string) => {
    throw new ConditionError(`expected ${what} ${i < tokens.length ? `at '${tokens[i].text}'` : 'at the end'}`);
  };

  const parseOr = (): ConditionNode => {
    const items = [parseAnd()];
    while (peekWord() === 'or') {
      i++;
      items.push(parseAnd());
    }
    return items.length === 1 ? items[0] : { op: 'or', items };
  };
  const parseAnd = (): ConditionNode => {
    const items = [parseNot()];
    while (peekWord() === 'and') {
      i++;
      items.push(parseNot());
    }
    return items.length === 1 ? items[0] : { op: 'and', items };
  };
  const parseNot = (): ConditionNode => {
    if (peekWord() === 'not') {
      i++;
      return { op: 'not', item: parseNot() };
    }
    return parseAtom();
  };
  const parseAtom = (): ConditionNode => {
    const t = tokens[i];
    if (!t) return expect('a search identifier');
    if (t.kind === 'paren') {
      if (t.text === ')') return expect('a search identifier');
      i++;
      const inner = parseOr();
      if (tokens[i]?.kind !== 'paren' || tokens[i].text !== ')') return expect("')'");
      i++;
      return inner;
    }
    const word = t.text.toLowerCase();
    if (['and', 'or', 'of', 'them'].includes(word)) return expect('a search identifier');
    if ((word === 'all' || /^\d+$/.test(word)) && tokens[i + 1]?.kind === 'word' && tokens[i + 1].text.toLowerCase() === 'of') {
      const count = word === 'all' ? 'all' : Number(word);
      if (count !== 'all' && count < 1) throw new ConditionError(`'${word} of' needs a count of at least 1`);
      const target = tokens[i + 2];
      if (!target || target.kind !== 'word') {
        i += 2;
        return expect('a pattern or them');
      }
      i += 3;
      return { op: 'of', count, pattern: target.text.toLowerCase() === 'them' ? 'them' : target.text };
    }
    i++;
    return { op: 'ref', name: t.text };
  };

  const tree = parseOr();
  if (i < tokens.length) expect("'and', 'or' or the end");
  return tree;
}

/** Search identifiers a pattern names (`sel_*`, `them`), in the order they are declared. */
export function matchIdentifiers(pattern: string, names: readonly string[]): string[] {
  if (pattern === 'them') return names.filter((n) => !n.startsWith('_'));
  const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  return names.filter((n) => re.test(n));
}
