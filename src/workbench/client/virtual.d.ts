/** Built by src/workbench/build.ts (countryCentroids): alpha-2 → [lat, lng, name, numeric code]. */
declare module 'virtual:country-centroids' {
  const centroids: Record<string, [number, number, string, string]>;
  export default centroids;
}
