export { catalogStatements, normalizeLake, hiveType, AWS_REGIONS, type CatalogOptions, type CatalogStatement } from './ddl';
export { discoverPartitionValues } from './discover';
export { applyCatalog, type AppliedStatement } from './apply';
