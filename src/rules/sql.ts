/**
 * SQL fragments that carry their parameters with them, so text and `?` values are always
 * concatenated in the same order. Values only ever enter as `?` (`param`); text only as code
 * constants or identifiers checked against the lake contract (`ident`).
 */
import { quoteIdent } from '../core/sql';
import type { SqlParam } from '../engine/types';

/** A parameter the runner fills in from the time window it runs over. */
export type WindowValue =
  | 'from' // TIMESTAMP: window start (inclusive)
  | 'to' // TIMESTAMP: window end (exclusive)
  | 'fromDay' // YYYY-MM-DD: first partition day of the window
  | 'toDay' // YYYY-MM-DD: last partition day of the window
  | 'lookbackFrom' // TIMESTAMP: start of a baseline's history (from − lookback)
  | 'lookbackFromDay'; // YYYY-MM-DD: its partition day

export type Slot = { value: SqlParam } | { window: WindowValue };

export class Frag {
  constructor(
    readonly text: string,
    readonly slots: readonly Slot[] = [],
  ) {}
}

export type Part = Frag | string;

/** Joins text and fragments in order; a plain string is code text, never a value. */
export function sql(strings: TemplateStringsArray, ...parts: Part[]): Frag {
  let text = strings[0];
  const slots: Slot[] = [];
  parts.forEach((part, i) => {
    if (part instanceof Frag) {
      text += part.text;
      slots.push(...part.slots);
    } else text += part;
    text += strings[i + 1];
  });
  return new Frag(text, slots);
}

export function param(value: SqlParam): Frag {
  return new Frag('?', [{ value }]);
}

export function windowParam(window: WindowValue): Frag {
  return new Frag('?', [{ window }]);
}

export function join(frags: readonly Frag[], separator: string): Frag {
  return new Frag(
    frags.map((f) => f.text).join(separator),
    frags.flatMap((f) => f.slots),
  );
}

/** A double-quoted identifier from an allow-list (the lake contract's table and column names). */
export function ident(name: string, allowed: readonly string[]): Frag {
  return new Frag(quoteIdent(name, allowed));
}

export const TRUE = new Frag('true');
export const FALSE = new Frag('false');

export function and(frags: readonly Frag[]): Frag {
  if (frags.length === 0) return TRUE;
  if (frags.length === 1) return frags[0];
  return sql`(${join(frags, ' AND ')})`;
}

export function or(frags: readonly Frag[]): Frag {
  if (frags.length === 0) return FALSE;
  if (frags.length === 1) return frags[0];
  return sql`(${join(frags, ' OR ')})`;
}

export function not(frag: Frag): Frag {
  return sql`(NOT ${frag})`;
}

/** Fills the window slots: the parameter list a statement runs with. */
export function bindSlots(slots: readonly Slot[], window: Record<WindowValue, SqlParam>): SqlParam[] {
  return slots.map((slot) => ('value' in slot ? slot.value : window[slot.window]));
}
