/**
 * How stories reach the sample writers. A story plans items (a CloudTrail record, a flow, an Entra
 * sign-in line…) into the channel of the source that writes them; each writer takes its channel's
 * items one day at a time. A channel is typed by its item, so a story can only hand a writer what
 * that writer reads.
 */
import type { SourceId } from '../../src/generated/sources';
import type { Story } from './story';

/** The stories' items for one source's writer, with the time each belongs to (ms since the epoch). */
export interface StoryChannel<T> {
  readonly source: SourceId;
  readonly name: string;
  timeOf(item: T): number;
}

export function storyChannel<T>(source: SourceId, name: string, timeOf: (item: T) => number): StoryChannel<T> {
  return { source, name, timeOf };
}

/** Everything the stories planned: the stories (in stories.json order) and the items per channel. */
export class SamplePlan {
  readonly stories: Story[] = [];
  /** Items per channel, untyped here: add() and itemsOf() are typed by the channel. */
  private readonly channels = new Map<object, unknown[]>();

  addStory(story: Story): void {
    this.stories.push(story);
  }

  /** Plans one item into a channel (items keep the order they are planned in, among equal times). */
  add<T>(channel: StoryChannel<T>, item: T): void {
    let items = this.channels.get(channel);
    if (!items) this.channels.set(channel, (items = []));
    items.push(item);
  }

  /** A channel's items in time order (a stable sort: equal times keep their planned order). */
  itemsOf<T>(channel: StoryChannel<T>): T[] {
    const items = (this.channels.get(channel) ?? []) as T[];
    return [...items].sort((a, b) => channel.timeOf(a) - channel.timeOf(b));
  }
}

/** The items of each channel, handed out one day at a time. */
export class DaySlicer {
  private readonly sorted = new Map<object, { items: unknown[]; at: number }>();

  constructor(private readonly plan: SamplePlan) {}

  /** The channel's items before `dayEnd` not handed out yet, in time order. */
  take<T>(channel: StoryChannel<T>, dayEnd: number): T[] {
    let state = this.sorted.get(channel);
    if (!state) this.sorted.set(channel, (state = { items: this.plan.itemsOf(channel), at: 0 }));
    const items = state.items as T[];
    const out: T[] = [];
    while (state.at < items.length && channel.timeOf(items[state.at]) < dayEnd) out.push(items[state.at++]);
    return out;
  }
}

/**
 * What one writer hands another as it writes (CloudTrail's records in delivery order, from which
 * the S3 server access log writer derives its lines). The reading writer names the feed in its
 * module's `reads`, so the generator runs the producing writer (unwritten, if need be) first.
 */
export interface Feed<T> {
  readonly producer: SourceId;
  readonly name: string;
  /** Type marker only: a feed of records is not a feed of lines. */
  readonly _item?: (item: T) => T;
}

export function feed<T>(producer: SourceId, name: string): Feed<T> {
  return { producer, name };
}

export class FeedHub {
  /** Handlers per feed, untyped here: subscribe() and publish() are typed by the feed. */
  private readonly handlers = new Map<object, ((item: unknown) => void)[]>();

  subscribe<T>(feed: Feed<T>, handler: (item: T) => void): void {
    const list = this.handlers.get(feed) ?? [];
    list.push(handler as (item: unknown) => void);
    this.handlers.set(feed, list);
  }

  /** Whether anyone reads the feed (a producer may skip work nobody reads). */
  hasReaders<T>(feed: Feed<T>): boolean {
    return (this.handlers.get(feed)?.length ?? 0) > 0;
  }

  publish<T>(feed: Feed<T>, item: T): void {
    for (const handler of this.handlers.get(feed) ?? []) handler(item);
  }
}
