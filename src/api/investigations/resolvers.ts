/**
 * Investigations over GraphQL: `investigation(id) { pins }` and the pin / note / unpin mutations.
 * Who may write is checked once for every mutation (server.ts, `mayWrite`); here each write also
 * checks the event is one the caller may read, and leaves the stored change in the request's audit
 * line (ctx.notes.changes).
 */
import { GraphQLError } from 'graphql';
import type { InvestigationResolvers, MutationResolvers, PinnedEventResolvers, QueryResolvers } from '../../generated/graphql';
import type { RequestContext } from '../context';
import { eventConnection } from '../connections';
import { apiError } from '../errors';
import { offsetCursor, parseOffsetCursor } from '../ids';
import { checkFirst, checkText } from '../limits';
import type { EventModel } from '../models';
import {
  checkInvestigation,
  InvestigationError,
  MAX_NOTE_CHARS,
  type ChangeAuthor,
  type InvestigationStore,
  type Pin,
  type StoredChange,
} from './store';

export interface InvestigationModel {
  id: string;
}

/**
 * A pin as the API hands it on: with the events of the whole page, read together (one statement per
 * day the pins fall in, not one per pin) the first time any of them is asked for its event.
 */
export interface PinModel extends Pin {
  pageEvents?: () => Promise<Map<string, EventModel>>;
}

/** An event is found at its time: a window of one second from it. */
const EVENT_SPAN_MS = 1000;

function storeOf(ctx: RequestContext): InvestigationStore {
  if (!ctx.investigations)
    throw new GraphQLError('this server keeps no investigations (no store configured)', {
      extensions: { code: 'SERVICE_UNAVAILABLE' },
    });
  return ctx.investigations;
}

/** Store errors (a bad id, a broken chain) are the caller's to read; anything else is hidden. */
async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof InvestigationError) throw apiError(err.message, 'BAD_USER_INPUT');
    throw err;
  }
}

function author(ctx: RequestContext): ChangeAuthor {
  const { subject, role, name } = ctx.caller;
  return { subject, role, ...(name ? { name } : {}) };
}

function checkNote(note: string): string {
  if (note.length > MAX_NOTE_CHARS) throw apiError(`note is longer than ${MAX_NOTE_CHARS} characters`, 'BAD_USER_INPUT');
  return note;
}

function recordChange(ctx: RequestContext, stored: StoredChange): void {
  const c = stored.change;
  (ctx.notes.changes ??= []).push({
    investigation: c.investigation,
    seq: c.seq,
    action: c.action,
    eventId: c.eventId,
    sha256: stored.sha256,
  });
}

/** The event with this id at this time, among the accounts the request may read (null: none). */
async function findEvent(ctx: RequestContext, eventId: string, time: Date): Promise<EventModel | null> {
  const window = { from: time, to: new Date(time.getTime() + EVENT_SPAN_MS) };
  const connection = await eventConnection(ctx, 'none', '*', null, { filter: { eventIds: [eventId] }, window, first: 1 });
  const [edge] = await connection.edges(null);
  return edge?.node ?? null;
}

/** The events of pins, read in runs of pins less than a day apart: one events statement per run. */
async function eventsOfPins(ctx: RequestContext, pins: readonly Pin[]): Promise<Map<string, EventModel>> {
  const runs: Pin[][] = [];
  for (const pin of pins) {
    const run = runs.at(-1);
    if (run && Date.parse(pin.time) - Date.parse(run[0].time) < 86_400_000) run.push(pin);
    else runs.push([pin]);
  }
  const found = new Map<string, EventModel>();
  await Promise.all(
    runs.map(async (run) => {
      const from = new Date(run[0].time);
      const to = new Date(Date.parse(run.at(-1)!.time) + EVENT_SPAN_MS);
      const ids = [...new Set(run.map((p) => p.eventId))];
      const connection = await eventConnection(ctx, 'none', '*', null, {
        filter: { eventIds: ids },
        window: { from, to },
        first: ids.length,
      });
      for (const edge of await connection.edges(null)) found.set(edge.node.row.event_id, edge.node);
    }),
  );
  return found;
}

/** Pins of the accounts this request may read, by event time. */
async function visiblePins(ctx: RequestContext, investigation: string): Promise<Pin[]> {
  const pins = await guarded(() => storeOf(ctx).pins(investigation));
  return pins
    .filter((p) => ctx.scope.permits(p.account))
    .sort((a, b) => a.time.localeCompare(b.time) || a.eventId.localeCompare(b.eventId));
}

export const investigationQuery: Pick<QueryResolvers, 'investigation'> = {
  investigation: (_p, args) => ({ id: checkText(args.id, 'id') }),
};

export const Investigation: InvestigationResolvers = {
  id: (i) => i.id,
  pins: async (i, args, ctx) => {
    const first = checkFirst(args.first, ctx.limits);
    const offset = parseOffsetCursor(args.after);
    const pins = await visiblePins(ctx, i.id);
    const page: PinModel[] = pins.slice(offset, offset + first);
    let events: Promise<Map<string, EventModel>> | null = null;
    const pageEvents = () => (events ??= eventsOfPins(ctx, page));
    const edges = page.map((pin, k) => ({ cursor: offsetCursor(offset + k + 1), node: { ...pin, pageEvents } }));
    return {
      edges,
      pageInfo: { hasNextPage: offset + first < pins.length, endCursor: edges.at(-1)?.cursor ?? null },
      totalCount: pins.length,
    };
  },
};

const who = (a: ChangeAuthor | null): string | null => (a ? (a.name ?? a.subject) : null);

export const PinnedEvent: PinnedEventResolvers = {
  time: (p) => new Date(p.time),
  pinnedAt: (p) => new Date(p.pinnedAt),
  notedAt: (p) => (p.notedAt ? new Date(p.notedAt) : null),
  pinnedBy: (p) => who(p.pinnedBy) ?? '',
  notedBy: (p) => who(p.notedBy),
  event: async (p, _args, ctx) =>
    p.pageEvents ? ((await p.pageEvents()).get(p.eventId) ?? null) : findEvent(ctx, p.eventId, new Date(p.time)),
};

export const Mutation: MutationResolvers = {
  pinEvent: async (_p, args, ctx) => {
    await guarded(() => Promise.resolve(checkInvestigation(args.investigation)));
    const eventId = checkText(args.eventId, 'eventId');
    const note = args.note == null ? undefined : checkNote(args.note);
    const event = await findEvent(ctx, eventId, args.time);
    if (!event) throw apiError(`no event ${eventId} at ${args.time.toISOString()} in the accounts this caller may read`, 'BAD_USER_INPUT');
    const time = event.row.time instanceof Date ? event.row.time : args.time;
    return guarded(async () => {
      const store = storeOf(ctx);
      let already: Pin | undefined;
      try {
        const { stored, pins } = await store.append(
          args.investigation,
          { by: author(ctx), action: 'pin', eventId, time: time.toISOString(), account: event.row.account, ...(note ? { note } : {}) },
          (pins) => {
            already = pins.find((p) => p.eventId === eventId);
            if (already) throw new AlreadyPinned();
          },
        );
        recordChange(ctx, stored);
        return pins.find((p) => p.eventId === eventId)!;
      } catch (err) {
        if (err instanceof AlreadyPinned && already) return already;
        throw err;
      }
    });
  },
  noteEvent: async (_p, args, ctx) => {
    const eventId = checkText(args.eventId, 'eventId');
    const note = checkNote(args.note);
    return guarded(async () => {
      const { stored, pins } = await storeOf(ctx).append(args.investigation, { by: author(ctx), action: 'note', eventId, note }, (pins) => {
        const pin = pins.find((p) => p.eventId === eventId);
        // An event of another account is as unknown to this caller as one never pinned.
        if (!pin || !ctx.scope.permits(pin.account))
          throw new InvestigationError(`event ${eventId} is not pinned to investigation ${args.investigation}`);
      });
      recordChange(ctx, stored);
      return pins.find((p) => p.eventId === eventId)!;
    });
  },
  unpinEvent: async (_p, args, ctx) => {
    const eventId = checkText(args.eventId, 'eventId');
    return guarded(async () => {
      try {
        const { stored } = await storeOf(ctx).append(args.investigation, { by: author(ctx), action: 'unpin', eventId }, (pins) => {
          const pin = pins.find((p) => p.eventId === eventId);
          if (!pin || !ctx.scope.permits(pin.account)) throw new NotPinned();
        });
        recordChange(ctx, stored);
        return true;
      } catch (err) {
        if (err instanceof NotPinned) return false;
        throw err;
      }
    });
  },
};

class AlreadyPinned extends Error {}
class NotPinned extends Error {}
