/**
 * Limits on a document before anything runs: depth, aliases and an estimated cost where each
 * field counts once per row the lists above it can return (their `first`, or the default).
 * Runs once variables are known, so `first: $n` is costed at its real value.
 */
import {
  GraphQLError,
  Kind,
  OperationTypeNode,
  getNamedType,
  isObjectType,
  isInterfaceType,
  isListType,
  getNullableType,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type GraphQLCompositeType,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { ApiLimits } from './limits';

function reject(message: string, code: 'QUERY_TOO_DEEP' | 'QUERY_TOO_COMPLEX'): never {
  throw new GraphQLError(message, { extensions: { code, http: { status: 400 } } });
}

function argInt(value: ValueNode | undefined, variables: Record<string, unknown>): number | null {
  if (!value) return null;
  if (value.kind === Kind.INT) return Number(value.value);
  if (value.kind === Kind.VARIABLE) {
    const v = variables[value.name.value];
    return typeof v === 'number' ? v : null;
  }
  return null;
}

export function checkDocumentCost(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
  limits: ApiLimits,
): { depth: number; cost: number; aliases: number } {
  let aliases = 0;
  let maxDepth = 0;
  const root =
    operation.operation === OperationTypeNode.QUERY
      ? schema.getQueryType()
      : operation.operation === OperationTypeNode.MUTATION
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  if (!root) return { depth: 0, cost: 0, aliases: 0 };

  const walk = (set: SelectionSetNode, parent: GraphQLCompositeType, depth: number, multiplier: number, active: Set<string>): number => {
    if (depth > limits.maxDepth) reject(`query is deeper than ${limits.maxDepth} levels`, 'QUERY_TOO_DEEP');
    maxDepth = Math.max(maxDepth, depth);
    let cost = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.alias) {
          aliases += 1;
          if (aliases > limits.maxAliases) reject(`query uses more than ${limits.maxAliases} aliases`, 'QUERY_TOO_COMPLEX');
        }
        cost += multiplier;
        if (cost > limits.maxComplexity)
          reject(
            `query is too expensive (estimated cost above ${limits.maxComplexity}); ask for smaller pages or fewer fields`,
            'QUERY_TOO_COMPLEX',
          );
        if (!selection.selectionSet) continue;
        const fieldDef = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[selection.name.value] : undefined;
        if (!fieldDef) continue; // unknown fields are reported by validation
        const firstArg = selection.arguments?.find((a) => a.name.value === 'first');
        const hasFirst = fieldDef.args.some((a) => a.name === 'first');
        let fanOut = 1;
        if (hasFirst) fanOut = Math.max(1, argInt(firstArg?.value, variables) ?? limits.defaultPageSize);
        // A connection's `edges` list is already counted by the connection's `first`.
        else if (isListType(getNullableType(fieldDef.type)) && !parent.name.endsWith('Connection')) {
          fanOut = selection.name.value === 'chain' ? limits.maxChainHops : 10;
        }
        const child = getNamedType(fieldDef.type) as GraphQLCompositeType;
        cost += walk(selection.selectionSet, child, depth + 1, multiplier * fanOut, active);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition
          ? (schema.getType(selection.typeCondition.name.value) as GraphQLCompositeType | undefined)
          : parent;
        cost += walk(selection.selectionSet, type ?? parent, depth, multiplier, active);
      } else {
        const name = selection.name.value;
        const fragment = fragments[name];
        if (!fragment || active.has(name)) continue; // cycles are a validation error of their own
        const type = schema.getType(fragment.typeCondition.name.value) as GraphQLCompositeType | undefined;
        active.add(name);
        cost += walk(fragment.selectionSet, type ?? parent, depth, multiplier, active);
        active.delete(name);
      }
      if (cost > limits.maxComplexity)
        reject(
          `query is too expensive (estimated cost above ${limits.maxComplexity}); ask for smaller pages or fewer fields`,
          'QUERY_TOO_COMPLEX',
        );
    }
    return cost;
  };

  const cost = walk(operation.selectionSet, root, 1, 1, new Set());
  return { depth: maxDepth, cost, aliases };
}
