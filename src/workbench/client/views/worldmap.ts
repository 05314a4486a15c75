/**
 * Where an entity's events came from, on an offline world map: the world outline (world-atlas's
 * Natural Earth 1:110m TopoJSON) and country centres (derived at build time: build.ts) are inside the bundle, so the
 * map draws with no request beyond this server. One point per source country, sized by its events
 * (the `aggregate` by COUNTRY of the same events the grid pages through); countries with events are
 * shaded. A click on a point (or its row) narrows the event grid to that country (`country=` in the URL).
 */
import { geoNaturalEarth1, geoPath } from 'd3-geo';
import type { FeatureCollection, Geometry } from 'geojson';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import centroids from 'virtual:country-centroids';
import world from 'world-atlas/countries-110m.json';
import { gql } from '../api';
import { count, h, message, replaceChildren } from '../dom';
import type { TimeWindow } from '../route';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 640;
const HEIGHT = 330;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, String(value));
  return element;
}

let outline: { paths: { id: string; d: string }[]; project: (lngLat: [number, number]) => [number, number] | null } | null = null;

/** The outline's country paths, projected once per page load. */
function worldOutline(): NonNullable<typeof outline> {
  if (outline) return outline;
  const topology = world as unknown as Topology<{ countries: GeometryCollection<{ name: string }> }>;
  const countries = feature(topology, topology.objects.countries) as FeatureCollection<Geometry, { name: string }>;
  const projection = geoNaturalEarth1().fitSize([WIDTH, HEIGHT], { type: 'Sphere' });
  const path = geoPath(projection);
  outline = {
    paths: countries.features.map((f) => ({ id: String(f.id ?? ''), d: path(f) ?? '' })).filter((p) => p.d !== ''),
    project: (lngLat) => projection(lngLat),
  };
  return outline;
}

export interface CountryCount {
  country: string | null;
  count: number;
}

/** The aggregate by country of an entity's events in the window. */
export function countryQuery(lookup: string, argument: string): string {
  return `query SourceCountries($id: String!, $w: TimeWindow!) {
    entity: ${lookup}(${argument}: $id, window: $w) {
      events(first: 1, window: $w) { aggregate(groupBy: [COUNTRY], top: 300) { totalEvents groups { country count } } }
    }
  }`;
}

/**
 * The map panel. `select(country)` is called on a click (null: clear); `selected` is the country
 * the grid is narrowed to now.
 */
export function worldMapPanel(
  lookup: string,
  argument: string,
  id: string,
  window: TimeWindow,
  selected: string | null,
  select: (country: string | null) => void,
): HTMLElement {
  const panel = h(
    'section',
    { class: 'world-map', id: 'world-map', 'data-state': 'loading' },
    h('h2', {}, 'Source countries'),
    message('loading', 'Counting…'),
  );
  gql<{ entity: { events: { aggregate: { totalEvents: number; groups: CountryCount[] } } } | null }>(countryQuery(lookup, argument), {
    id,
    w: window,
  })
    .then(({ entity }) => {
      const groups = entity?.events.aggregate.groups ?? [];
      drawMap(panel, groups, selected, select);
      panel.setAttribute('data-state', 'done');
    })
    .catch((err: unknown) => {
      replaceChildren(panel, h('h2', {}, 'Source countries'), message('error', err instanceof Error ? err.message : String(err)));
      panel.setAttribute('data-state', 'error');
    });
  return panel;
}

function drawMap(
  panel: HTMLElement,
  groups: readonly CountryCount[],
  selected: string | null,
  select: (country: string | null) => void,
): void {
  const { paths, project } = worldOutline();
  const located = groups.filter((g): g is CountryCount & { country: string } => g.country !== null && centroids[g.country] !== undefined);
  const unplaced = groups.filter((g) => g.country === null || centroids[g.country] === undefined).reduce((n, g) => n + g.count, 0);
  const numeric = new Set(located.map((g) => centroids[g.country][3]));
  const max = Math.max(1, ...located.map((g) => g.count));

  const map = svg('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    class: 'world',
    role: 'img',
    'aria-label': 'Source countries of the events',
  });
  map.appendChild(svg('rect', { x: 0, y: 0, width: WIDTH, height: HEIGHT, class: 'sea' }));
  const land = svg('g', { class: 'countries' });
  for (const p of paths)
    land.appendChild(svg('path', { d: p.d, 'data-ccn3': p.id, class: numeric.has(p.id) ? 'country seen' : 'country' }));
  map.appendChild(land);
  const points = svg('g', { class: 'points' });
  // Biggest first, so a small country's point stays clickable on top of a big neighbour's.
  for (const g of [...located].sort((a, b) => b.count - a.count)) {
    const [lat, lng, name] = centroids[g.country];
    const xy = project([lng, lat]);
    if (!xy) continue;
    const circle = svg('circle', {
      cx: xy[0].toFixed(1),
      cy: xy[1].toFixed(1),
      r: (3 + 12 * Math.sqrt(g.count / max)).toFixed(1),
      class: g.country === selected ? 'point selected' : 'point',
      'data-country': g.country,
      'data-count': g.count,
      tabindex: 0,
    });
    const title = svg('title', {});
    title.textContent = `${name} (${g.country}): ${count(g.count)} events`;
    circle.appendChild(title);
    circle.addEventListener('click', () => select(g.country === selected ? null : g.country));
    points.appendChild(circle);
  }
  map.appendChild(points);

  replaceChildren(
    panel,
    h('h2', {}, 'Source countries ', h('span', { class: 'muted', 'data-field': 'map-countries' }, `${located.length}`)),
    map,
    h(
      'ul',
      { class: 'map-legend' },
      located.map((g) =>
        h(
          'li',
          { 'data-country': g.country },
          h(
            'a',
            {
              href: '#',
              class: g.country === selected ? 'selected' : null,
              onclick: (e: Event) => {
                e.preventDefault();
                select(g.country === selected ? null : g.country);
              },
            },
            `${centroids[g.country][2]} (${g.country})`,
          ),
          ' ',
          h('span', { class: 'muted' }, count(g.count)),
        ),
      ),
    ),
    unplaced > 0
      ? h('p', { class: 'muted', 'data-field': 'map-unplaced' }, `${count(unplaced)} events from private or unknown addresses`)
      : null,
    located.length === 0 && unplaced === 0 ? message('empty', 'No events in this window.') : null,
    selected
      ? h(
          'p',
          {},
          `The event grid shows events from ${selected} only. `,
          h(
            'a',
            {
              href: '#',
              id: 'map-clear',
              onclick: (e: Event) => {
                e.preventDefault();
                select(null);
              },
            },
            'Show all',
          ),
        )
      : null,
  );
}
