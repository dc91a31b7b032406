import { Kind, print, type DocumentNode } from 'graphql';
import type { TadaDocumentNode } from 'gql.tada';

/**
 * One failure the API reported. `code` is the server's `extensions.code` (BAD_USER_INPUT, UNAUTHENTICATED,
 * FORBIDDEN, NOT_FOUND, CONFLICT, RATE_LIMITED, ...) or NETWORK_ERROR / BAD_RESPONSE when no GraphQL
 * answer arrived. `field` names the input field that caused it, when the server said.
 */
export interface ApiError {
  code: string;
  message: string;
  field?: string;
  retryAfterSeconds?: number;
}

export type ApiResult<TData> = { ok: true; data: TData } | { ok: false; errors: ApiError[]; data?: TData | null };

export type Operation<TData, TVariables> = TadaDocumentNode<TData, TVariables>;

/** Variables are optional when an operation declares none. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- `{} extends T`: T has no required keys
export type VariablesArg<TVariables> = {} extends TVariables ? [variables?: TVariables] : [variables: TVariables];

// Printed once per document: the DocumentNode objects are module-level constants.
const printed = new WeakMap<DocumentNode, string>();
function source(document: DocumentNode): string {
  let text = printed.get(document);
  if (text === undefined) {
    text = print(document);
    printed.set(document, text);
  }
  return text;
}

function operationName(document: DocumentNode): string | undefined {
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION && definition.name) return definition.name.value;
  }
  return undefined;
}

interface WireResponse<TData> {
  data?: TData | null;
  errors?: { message?: unknown; extensions?: Record<string, unknown> }[];
}

/**
 * POSTs one operation as JSON. Always `content-type: application/json`, which also satisfies the
 * API's CSRF prevention (it refuses "simple" requests a cross-site form could send).
 */
export async function executeGraphQL<TData, TVariables>(
  endpoint: string,
  document: Operation<TData, TVariables>,
  variables: TVariables | undefined,
  init: { headers?: Record<string, string>; credentials?: RequestCredentials; signal?: AbortSignal } = {},
): Promise<ApiResult<TData>> {
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...init.headers,
      },
      body: JSON.stringify({
        query: source(document),
        variables: variables ?? {},
        operationName: operationName(document),
      }),
      credentials: init.credentials,
      signal: init.signal,
      cache: 'no-store',
    });
  } catch (err) {
    if (init.signal?.aborted) throw err;
    return failure('NETWORK_ERROR', 'Could not reach the Dapple server. Check your connection and try again.');
  }

  let body: WireResponse<TData>;
  try {
    body = (await response.json()) as WireResponse<TData>;
  } catch {
    return failure(
      'BAD_RESPONSE',
      `The server answered ${response.status} ${response.statusText} without a GraphQL response.`,
    );
  }
  if (body.errors && body.errors.length > 0) {
    return { ok: false, errors: body.errors.map(toApiError), data: body.data };
  }
  if (body.data === undefined || body.data === null) {
    return failure('BAD_RESPONSE', `The server answered ${response.status} with neither data nor errors.`);
  }
  return { ok: true, data: body.data };
}

function toApiError(raw: { message?: unknown; extensions?: Record<string, unknown> }): ApiError {
  const extensions = raw.extensions ?? {};
  const error: ApiError = {
    code: typeof extensions.code === 'string' ? extensions.code : 'INTERNAL_SERVER_ERROR',
    message: typeof raw.message === 'string' ? raw.message : 'Something went wrong',
  };
  if (typeof extensions.field === 'string') error.field = extensions.field;
  if (typeof extensions.retryAfterSeconds === 'number') error.retryAfterSeconds = extensions.retryAfterSeconds;
  return error;
}

function failure(code: string, message: string): { ok: false; errors: ApiError[] } {
  return { ok: false, errors: [{ code, message }] };
}

/** Runs an operation from the browser through the dashboard's same-origin `/graphql` proxy, with the session cookie. */
export function request<TData, TVariables>(
  document: Operation<TData, TVariables>,
  ...[variables]: VariablesArg<TVariables>
): Promise<ApiResult<TData>> {
  return executeGraphQL(`/graphql`, document, variables, { credentials: 'same-origin' });
}

export function hasCode(result: ApiResult<unknown>, code: string): boolean {
  return !result.ok && result.errors.some((e) => e.code === code);
}
