/**
 * GraphQL types generated from a zod config schema (its shape, read by @dapple/contracts/config-shape): an
 * output object type, input types and real enums, so the schema's fields, enum values, bounds and defaults
 * are written once, in the zod schema.
 *
 * Why a small generator and not a Pothos plugin: Pothos' validation plugins (`@pothos/plugin-zod`, and
 * `@pothos/plugin-validation` that replaces it) validate the arguments of fields you have already declared;
 * neither creates GraphQL types from a zod schema. Validation stays where it is — the services parse with the
 * zod schema and name the field — and this file only declares the types.
 *
 * - Enum values are upper case (`dpmpp-2m-sde` → `DPMPP_2M_SDE`) and map to the schema's own values, so
 *   resolvers and services see exactly what the zod schema takes and stores.
 * - Inputs carry no GraphQL default values (a fork's overrides must not reset what they leave out); defaults,
 *   ranges and allowed values go into the descriptions instead.
 * - A union of objects in the schema is one merged type (see config-shape.ts): its discriminator is an enum,
 *   and fields of only some members are optional.
 */
import { graphqlEnumName, type ConfigField, type ConfigObject, type ConfigType } from '@dapple/contracts/config-shape';
import { builder } from './builder.ts';

// Pothos infers field types from literal options; generated fields are typed by the zod schema instead.
type Config = Record<string, unknown>;

export interface ConfigTypeNames {
  /** Output object type names by field path ('' is the root, 'model' a nested object). */
  objects: Record<string, string>;
  /** Enum names by field path; a path missing here gets `<RootName><FieldName>`. */
  enums?: Record<string, string>;
  /** Enums that already exist in the schema, by field path (their values must be the schema's values). */
  existingEnums?: Record<string, unknown>;
  /** Extra words for a field's description, by path (the range, the default and the values are added). */
  docs?: Record<string, string>;
}

const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Builds the types of one config schema; enums are shared between its output and input types. */
export class ConfigTypes {
  private readonly enums = new Map<string, unknown>();

  constructor(
    private readonly shape: ConfigObject,
    private readonly names: ConfigTypeNames,
  ) {}

  /**
   * The output object type. `alwaysSet` lists paths the service fills in after parsing (not schema defaults)
   * and so are non-null although the schema lets a caller leave them out.
   */
  output(opts: { alwaysSet?: string[]; description?: string } = {}) {
    return this.outputObject(this.shape, '', new Set(opts.alwaysSet ?? []), opts.description);
  }

  /** An input type of the root object, optionally without some top-level fields. */
  input(name: string, opts: { omit?: readonly string[]; description?: string; nestedSuffix?: string } = {}) {
    const omit = new Set(opts.omit ?? []);
    const fields = Object.fromEntries(Object.entries(this.shape.fields).filter(([k]) => !omit.has(k)));
    return this.inputObject({ kind: 'object', fields }, '', name, opts.description, opts.nestedSuffix ?? 'Input');
  }

  /** The enum of the field at `path` (created on first use), e.g. to type another field with it. */
  enumAt(path: string): unknown {
    let type: ConfigType | undefined = this.shape;
    for (const key of path.split('.')) type = type?.kind === 'object' ? type.fields[key]?.type : undefined;
    if (type?.kind !== 'enum') throw new Error(`config-types: ${path} is not an enum field`);
    return this.enumRef(type.values, path);
  }

  private outputObject(shape: ConfigObject, path: string, alwaysSet: Set<string>, description?: string) {
    const name = this.objectName(path);
    const ref = builder.objectRef<Config>(name);
    ref.implement({
      ...(description ? { description } : {}),
      fields: (t) =>
        Object.fromEntries(
          Object.entries(shape.fields).map(([key, field]) => {
            const fieldPath = path ? `${path}.${key}` : key;
            const nonNull = field.required || field.hasDefault || alwaysSet.has(fieldPath);
            return [
              key,
              t.field({
                type: this.outputTypeParam(field.type, fieldPath, alwaysSet) as never,
                nullable: !nonNull,
                description: this.describe(field, fieldPath),
                resolve: (c: Config) => c[key] as never,
              }),
            ];
          }),
        ),
    });
    return ref;
  }

  private outputTypeParam(type: ConfigType, path: string, alwaysSet: Set<string>): unknown {
    switch (type.kind) {
      case 'object':
        return this.outputObject(type, path, alwaysSet);
      case 'list':
        return [this.outputTypeParam(type.of, path, alwaysSet)];
      default:
        return this.scalarOrEnum(type, path);
    }
  }

  private inputObject(
    shape: ConfigObject,
    path: string,
    name: string,
    description: string | undefined,
    suffix: string,
  ) {
    return builder.inputType(name, {
      ...(description ? { description } : {}),
      fields: (t) =>
        Object.fromEntries(
          Object.entries(shape.fields).map(([key, field]) => {
            const fieldPath = path ? `${path}.${key}` : key;
            return [
              key,
              t.field({
                type: this.inputTypeParam(field.type, fieldPath, suffix) as never,
                required: field.required,
                description: this.describe(field, fieldPath),
              }),
            ];
          }),
        ),
    });
  }

  private readonly inputObjects = new Map<string, unknown>();

  private inputTypeParam(type: ConfigType, path: string, suffix: string): unknown {
    switch (type.kind) {
      case 'object': {
        const name = `${this.objectName(path)}${suffix}`;
        let ref = this.inputObjects.get(name);
        if (!ref) this.inputObjects.set(name, (ref = this.inputObject(type, path, name, undefined, suffix)));
        return ref;
      }
      case 'list':
        return [this.inputTypeParam(type.of, path, suffix)];
      default:
        return this.scalarOrEnum(type, path);
    }
  }

  private scalarOrEnum(type: ConfigType, path: string): unknown {
    switch (type.kind) {
      case 'int':
        return 'Int';
      case 'float':
        return 'Float';
      case 'boolean':
        return 'Boolean';
      case 'string':
        return 'String';
      case 'enum':
        return this.enumRef(type.values, path);
      default:
        throw new Error(`config-types: ${path} is not a scalar`);
    }
  }

  private enumRef(values: string[], path: string): unknown {
    const existing = this.names.existingEnums?.[path];
    if (existing) return existing;
    const name =
      this.names.enums?.[path] ??
      `${this.objectName('')}${path
        .split('.')
        .map((p) => pascal(p))
        .join('')}`;
    let ref = this.enums.get(name);
    if (!ref) {
      ref = builder.enumType(name, {
        values: Object.fromEntries(values.map((v) => [graphqlEnumName(v), { value: v }])),
      });
      this.enums.set(name, ref);
    }
    return ref;
  }

  private objectName(path: string): string {
    const name = this.names.objects[path];
    if (!name) throw new Error(`config-types: no GraphQL type name for the object at "${path || '(root)'}"`);
    return name;
  }

  /** The extra words, then the allowed range and the default, in GraphQL's terms. */
  private describe(field: ConfigField, path: string): string | undefined {
    const parts: string[] = [];
    const doc = this.names.docs?.[path];
    if (doc) parts.push(doc);
    if (field.min !== undefined && field.max !== undefined)
      parts.push(`${field.exclusiveMin ? `Above ${field.min}, at most` : `From ${field.min} to`} ${field.max}.`);
    const value = field.default;
    // Object defaults (nested groups) are described by their own fields.
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      const shown = field.type.kind === 'enum' && typeof value === 'string' ? graphqlEnumName(value) : String(value);
      parts.push(`Default ${shown}.`);
    }
    return parts.length ? parts.join(' ') : undefined;
  }
}
