/** TEST INFRASTRUCTURE: the local Athena-protocol server (see ./server.ts). Never used in production code. */
export { AthenaLocalServer, startAthenaLocal, type AthenaLocalOptions } from './server';
export { findDialectViolation } from './dialect';
export { bindParameters } from './params';
export { startAthenaOverLake, type AthenaOverLake } from './lake';
