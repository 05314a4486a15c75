/**
 * The accounts a GraphQL operation names outright: an events filter's `account`, `account(id:)`.
 * A caller naming one outside its grant is refused with 403 (forbidden_account) before anything
 * runs, rather than answered with an empty page that would not tell a typo from a refusal.
 */
import {
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
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';

/** Input fields (of any input object) that name an account. */
const ACCOUNT_INPUT_FIELDS = new Set(['account']);
/** Root fields whose `id` argument is an account id. */
const ACCOUNT_ROOT_FIELDS = new Set(['account']);

export function accountsNamed(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): string[] {
  const named = new Set<string>();
  const typeInfo = new TypeInfo(schema);
  const fragments = document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
  for (const definition of [operation, ...fragments]) {
    visit(
      definition,
      visitWithTypeInfo(typeInfo, {
        Argument(node) {
          const argument = typeInfo.getArgument();
          if (!argument) return;
          const value = valueFromAST(node.value, argument.type, variables);
          const field = typeInfo.getFieldDef();
          if (
            typeInfo.getParentType() === schema.getQueryType() &&
            field &&
            ACCOUNT_ROOT_FIELDS.has(field.name) &&
            argument.name === 'id' &&
            typeof value === 'string'
          )
            named.add(value);
          collect(value, argument.type, named);
        },
      }),
    );
  }
  return [...named];
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
