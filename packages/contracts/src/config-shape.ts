/**
 * The shape of a config schema (field names, kinds, enum values, bounds, defaults), read from the zod schema
 * itself so that everything built from it — the hub's GraphQL input and output types and enums, the CLI's
 * translation of `--set` values into GraphQL enum names — follows the schema without being written again.
 *
 * It reads zod's documented JSON Schema export (`z.toJSONSchema`, the input side: what a caller may send)
 * rather than zod's internals, so it keeps working across zod releases. Unions of objects (e.g. a discriminated
 * union over an `architecture` field) are merged into one object: a field is required only when every member
 * requires it, enum values are the union of the members', and the schema's own validation still decides which
 * combinations are valid.
 */
import { z } from 'zod';

export type ConfigType =
  | { kind: 'int' | 'float' | 'boolean' | 'string' }
  | { kind: 'enum'; values: string[] }
  | { kind: 'list'; of: ConfigType }
  | ConfigObject;

export interface ConfigObject {
  kind: 'object';
  fields: Record<string, ConfigField>;
}

export interface ConfigField {
  type: ConfigType;
  /** The caller must send it (no default, not optional). */
  required: boolean;
  /** The schema fills it in when left out (so it is always present after parsing). */
  hasDefault: boolean;
  default?: unknown;
  min?: number;
  max?: number;
  /** The minimum itself is excluded (e.g. a learning rate > 0). */
  exclusiveMin?: boolean;
  description?: string;
}

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  description?: string;
};

/** The object shape of a zod schema (an object or a union of objects, transforms and refinements allowed). */
export function configShape(schema: z.ZodType): ConfigObject {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const type = typeOf(json, '(root)');
  if (type.kind !== 'object') throw new Error(`configShape: the schema is a ${type.kind}, not an object`);
  return type;
}

function withoutNull(node: JsonSchema): JsonSchema {
  const members = node.anyOf ?? node.oneOf;
  if (!members) return node;
  const rest = members.filter((m) => m.type !== 'null');
  return rest.length === 1 ? { ...node, anyOf: undefined, oneOf: undefined, ...rest[0] } : node;
}

function typeOf(raw: JsonSchema, path: string): ConfigType {
  const node = withoutNull(raw);
  if (node.allOf?.length === 1) return typeOf(node.allOf[0]!, path);
  const members = node.anyOf ?? node.oneOf;
  if (members) {
    return members.map((m, i) => typeOf(m, `${path}|${i}`)).reduce((a, b) => mergeTypes(a, b, path));
  }
  if (node.const !== undefined) return enumOf([node.const], path);
  if (node.enum) return enumOf(node.enum, path);
  switch (node.type) {
    case 'object': {
      const required = new Set(node.required ?? []);
      const fields: Record<string, ConfigField> = {};
      for (const [name, prop] of Object.entries(node.properties ?? {})) {
        // An accept-anything field (z.unknown()) is no input shape: a schema keeps such a field only to refuse it
        // with a better message (e.g. a DDPM-only field on a Glow config); the other union members say its type.
        if (acceptsAnything(prop)) continue;
        const inner = withoutNull(prop);
        fields[name] = {
          type: typeOf(prop, `${path}.${name}`),
          required: required.has(name) && prop.default === undefined,
          hasDefault: prop.default !== undefined,
          ...(prop.default !== undefined ? { default: prop.default } : {}),
          ...(inner.minimum !== undefined ? { min: inner.minimum } : {}),
          ...(inner.exclusiveMinimum !== undefined ? { min: inner.exclusiveMinimum, exclusiveMin: true } : {}),
          ...(inner.maximum !== undefined ? { max: inner.maximum } : {}),
          ...(prop.description !== undefined ? { description: prop.description } : {}),
        };
      }
      return { kind: 'object', fields };
    }
    case 'array':
      if (!node.items) throw new Error(`configShape: ${path} is a list without an item type`);
      return { kind: 'list', of: typeOf(node.items, `${path}[]`) };
    case 'integer':
      return { kind: 'int' };
    case 'number':
      return { kind: 'float' };
    case 'boolean':
      return { kind: 'boolean' };
    case 'string':
      return { kind: 'string' };
    default:
      throw new Error(`configShape: ${path} has no representable type (${JSON.stringify(node).slice(0, 120)})`);
  }
}

function acceptsAnything(node: JsonSchema): boolean {
  return (
    node.type === undefined &&
    !node.anyOf &&
    !node.oneOf &&
    !node.allOf &&
    !node.enum &&
    node.const === undefined &&
    !node.properties
  );
}

function enumOf(values: unknown[], path: string): ConfigType {
  if (!values.every((v): v is string => typeof v === 'string'))
    throw new Error(`configShape: ${path} is an enum of non-strings`);
  return { kind: 'enum', values: [...values] };
}

/** One type for a field that two union members both have. */
function mergeTypes(a: ConfigType, b: ConfigType, path: string): ConfigType {
  if (a.kind === 'enum' && b.kind === 'enum') return { kind: 'enum', values: [...new Set([...a.values, ...b.values])] };
  if (a.kind === 'list' && b.kind === 'list') return { kind: 'list', of: mergeTypes(a.of, b.of, `${path}[]`) };
  if (a.kind === 'object' && b.kind === 'object') {
    const fields: Record<string, ConfigField> = {};
    for (const name of new Set([...Object.keys(a.fields), ...Object.keys(b.fields)])) {
      const fa = a.fields[name];
      const fb = b.fields[name];
      if (!fa || !fb) {
        // Only some members have it: never required of the merged shape.
        fields[name] = { ...(fa ?? fb)!, required: false, hasDefault: false };
        continue;
      }
      fields[name] = {
        ...fa,
        type: mergeTypes(fa.type, fb.type, `${path}.${name}`),
        required: fa.required && fb.required,
        hasDefault: fa.hasDefault && fb.hasDefault,
        ...(JSON.stringify(fa.default) === JSON.stringify(fb.default) ? {} : { default: undefined }),
        ...(fa.min !== undefined && fb.min !== undefined ? { min: Math.min(fa.min, fb.min) } : { min: undefined }),
        ...(fa.max !== undefined && fb.max !== undefined ? { max: Math.max(fa.max, fb.max) } : { max: undefined }),
      };
    }
    return { kind: 'object', fields };
  }
  if (a.kind === b.kind) return a;
  // An int in one member and a float in another is a float; anything else cannot share one field.
  if ((a.kind === 'int' && b.kind === 'float') || (a.kind === 'float' && b.kind === 'int')) return { kind: 'float' };
  throw new Error(`configShape: union members disagree on ${path} (${a.kind} vs ${b.kind})`);
}

/**
 * The GraphQL name of an enum value: upper case, with what GraphQL names cannot hold as `_`
 * (`dpmpp-2m-sde` → `DPMPP_2M_SDE`). Stored configs keep the schema's own values.
 */
export function graphqlEnumName(value: string): string {
  const name = value.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  return /^[A-Z_]/.test(name) ? name : `_${name}`;
}

/**
 * A config written with the schema's values (`{ optimizer: 'adamw' }`, as `--set` and stored configs have them)
 * turned into GraphQL variables (`{ optimizer: 'ADAMW' }`). Values that are not one of the field's enum values
 * are left as they are, so the hub's error names them.
 */
export function toGraphQLEnums(shape: ConfigObject, value: unknown): unknown {
  return convert(shape, value, (values, v) => (values.includes(v) ? graphqlEnumName(v) : v));
}

/** The inverse of toGraphQLEnums: GraphQL enum names (`TINY`) back to the schema's values (`tiny`). */
export function fromGraphQLEnums(shape: ConfigObject, value: unknown): unknown {
  return convert(shape, value, (values, v) => values.find((e) => graphqlEnumName(e) === v) ?? v);
}

function convert(type: ConfigType, value: unknown, mapEnum: (values: string[], value: string) => string): unknown {
  if (type.kind === 'enum') return typeof value === 'string' ? mapEnum(type.values, value) : value;
  if (type.kind === 'list') return Array.isArray(value) ? value.map((v) => convert(type.of, v, mapEnum)) : value;
  if (type.kind === 'object' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, type.fields[k] ? convert(type.fields[k].type, v, mapEnum) : v]),
    );
  }
  return value;
}
