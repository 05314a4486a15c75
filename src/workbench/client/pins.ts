/**
 * An investigation's pins and notes, as the server keeps them in the lake: read once per grid,
 * changed with the pin / note / unpin mutations (a read-only role is refused by the server).
 */
import { gql } from './api';

export interface PinFields {
  eventId: string;
  time: string;
  account: string;
  note: string | null;
  pinnedBy: string;
  pinnedAt: string;
  notedBy: string | null;
  notedAt: string | null;
}

const PIN_FIELDS = 'eventId time account note pinnedBy pinnedAt notedBy notedAt';

/** The most pins one grid reads (the server's page cap). */
const PIN_PAGE = 500;

export async function loadPins(investigation: string): Promise<Map<string, PinFields>> {
  const data = await gql<{ investigation: { pins: { edges: { node: PinFields }[] } } }>(
    `query Pins($inv: String!, $first: Int!) { investigation(id: $inv) { pins(first: $first) { edges { node { ${PIN_FIELDS} } } } } }`,
    { inv: investigation, first: PIN_PAGE },
  );
  return new Map(data.investigation.pins.edges.map((e) => [e.node.eventId, e.node]));
}

export async function pinEvent(investigation: string, eventId: string, time: string, note: string | null): Promise<PinFields> {
  const data = await gql<{ pinEvent: PinFields }>(
    `mutation PinEvent($inv: String!, $id: String!, $time: DateTime!, $note: String) {
      pinEvent(investigation: $inv, eventId: $id, time: $time, note: $note) { ${PIN_FIELDS} } }`,
    { inv: investigation, id: eventId, time, note },
  );
  return data.pinEvent;
}

export async function noteEvent(investigation: string, eventId: string, note: string): Promise<PinFields> {
  const data = await gql<{ noteEvent: PinFields }>(
    `mutation NoteEvent($inv: String!, $id: String!, $note: String!) {
      noteEvent(investigation: $inv, eventId: $id, note: $note) { ${PIN_FIELDS} } }`,
    { inv: investigation, id: eventId, note },
  );
  return data.noteEvent;
}

export async function unpinEvent(investigation: string, eventId: string): Promise<boolean> {
  const data = await gql<{ unpinEvent: boolean }>(
    `mutation UnpinEvent($inv: String!, $id: String!) { unpinEvent(investigation: $inv, eventId: $id) }`,
    { inv: investigation, id: eventId },
  );
  return data.unpinEvent;
}
