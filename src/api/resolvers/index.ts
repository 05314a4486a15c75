/**
 * The resolver map: one file per type (or family of types), merged here and checked against the
 * resolver types graphql-codegen generates from the schema. Resolvers stay thin: engine work goes
 * through the loaders (src/api/loaders.ts) and the SQL of src/queries.
 */
import type { Resolvers } from '../../generated/graphql';
import { Account } from './account';
import { eventResolvers } from './events';
import { Finding } from './finding';
import { Identity } from './identity';
import { IndicatorContext, IndicatorMatch } from './indicator-context';
import { Lake } from './lake';
import { Entity, Event, Link, Node } from './interfaces';
import { IPAddress } from './ip-address';
import {
  AccountLink,
  AggregateGroup,
  DomainLink,
  EventAggregate,
  EventConnection,
  EventEdge,
  IdentityLink,
  IPAddressLink,
  ResourceLink,
  SessionLink,
  UserAgentLink,
} from './links';
import { Investigation, investigationQuery, Mutation, PinnedEvent } from '../investigations/resolvers';
import { Query } from './query';
import { Resource } from './resource';
import { DateTime } from './scalars';
import { Session, SessionIssuance } from './session';
import { UserAgent } from './user-agent';

export const resolvers: Resolvers = {
  DateTime,
  Node,
  Entity,
  Event,
  Link,
  Query: { ...Query, ...investigationQuery },
  Mutation,
  Investigation,
  PinnedEvent,
  Identity,
  Session,
  SessionIssuance,
  Resource,
  IPAddress,
  Account,
  UserAgent,
  IdentityLink,
  SessionLink,
  IPAddressLink,
  ResourceLink,
  UserAgentLink,
  AccountLink,
  DomainLink,
  EventConnection,
  EventEdge,
  EventAggregate,
  AggregateGroup,
  IndicatorContext,
  IndicatorMatch,
  Lake,
  Finding,
  ...eventResolvers,
};
