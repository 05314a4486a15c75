/**
 * The accounts a GraphQL operation names outright: an events filter's `account`, `account(id:)`.
 * A caller naming one outside its grant is refused with 403 (forbidden_account) before anything
 * runs, rather than answered with an empty page that would not tell a typo from a refusal.
 */
import {
  getNamedType,
  getNullableType,
  isInputObjectType,
  isListType,
  Kind,
  TypeInfo,
  valueFromAST,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValueNode,
} from 'graphql';

/** Input fields (of any input object) that name an account. */
const ACCOUNT_INPUT_FIELDS = new Set(['account']);
/** Root fields whose `id` argument is an account id. */
const ACCOUNT_ROOT_FIELDS = new Set(['account']);

/** An argument of the operation that may name an account, as written (its value is read per request). */
interface AccountArgument {
  value: ValueNode;
  type: GraphQLInputType;
  /** `account(id:)` at the root: the value itself is an account id. */
  rootAccountId: boolean;
}

/**
 * The arguments that may name an account, found once per operation node and schema. Apollo hands a
 * repeated document (the same text, other variables: what clients send all day) the same parsed
 * node from its document cache, so the walk with type information runs once per document, not once
 * per request; each request only reads those arguments' values with its own variables.
 */
const analysed = new WeakMap<GraphQLSchema, WeakMap<OperationDefinitionNode, AccountArgument[]>>();

export function accountsNamed(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): string[] {
  let bySchema = analysed.get(schema);
  if (!bySchema) analysed.set(schema, (bySchema = new WeakMap()));
  let args = bySchema.get(operation);
  if (!args) bySchema.set(operation, (args = accountArguments(schema, document, operation)));
  const named = new Set<string>();
  for (const argument of args) {
    const value = valueFromAST(argument.value, argument.type, variables);
    if (argument.rootAccountId && typeof value === 'string') named.add(value);
    collect(value, argument.type, named);
  }
  return [...named];
}

function accountArguments(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): AccountArgument[] {
  const found: AccountArgument[] = [];
  const typeInfo = new TypeInfo(schema);
  const fragments = document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
  for (const definition of [operation, ...fragments]) {
    visit(
      definition,
      visitWithTypeInfo(typeInfo, {
        Argument(node) {
          const argument = typeInfo.getArgument();
          if (!argument) return;
          const field = typeInfo.getFieldDef();
          const rootAccountId =
            typeInfo.getParentType() === schema.getQueryType() && !!field && ACCOUNT_ROOT_FIELDS.has(field.name) && argument.name === 'id';
          if (rootAccountId || mayNameAccount(argument.type)) found.push({ value: node.value, type: argument.type, rootAccountId });
        },
      }),
    );
  }
  return found;
}

/** Whether a value of this input type can hold an account field anywhere `collect` looks. */
function mayNameAccount(type: GraphQLInputType, seen = new Set<GraphQLNamedType>()): boolean {
  const named = getNamedType(type);
  if (!isInputObjectType(named) || seen.has(named)) return false;
  seen.add(named);
  return Object.values(named.getFields()).some((f) => ACCOUNT_INPUT_FIELDS.has(f.name) || mayNameAccount(f.type, seen));
}

function collect(value: unknown, type: GraphQLInputType, out: Set<string>): void {
  if (value === null || value === undefined) return;
  const inner = getNullableType(type);
  if (isListType(inner)) {
    if (Array.isArray(value)) for (const item of value) collect(item, inner.ofType, out);
    return;
  }
  if (!isInputObjectType(inner) || typeof value !== 'object') return;
  for (const field of Object.values(inner.getFields())) {
    const fieldValue = (value as Record<string, unknown>)[field.name];
    if (ACCOUNT_INPUT_FIELDS.has(field.name) && typeof fieldValue === 'string') out.add(fieldValue);
    collect(fieldValue, field.type, out);
  }
}
