import { runConfigShape } from '@dapple/contracts/run-config-shape';
import { GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType, getNamedType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ARCHITECTURE_FIELDS } from '../services/runs/index.ts';
import { getSchema } from './schema/index.ts';

// The run config's GraphQL types follow the zod schema: no field, enum value or required flag written by hand.
describe('run config GraphQL types', () => {
  const schema = getSchema();
  const shape = runConfigShape();
  const output = schema.getType('RunConfig') as GraphQLObjectType;
  const input = schema.getType('RunConfigInput') as GraphQLInputObjectType;
  const overrides = schema.getType('RunTrainingOverridesInput') as GraphQLInputObjectType;

  it('have every field of the zod schema, required where the schema requires it', () => {
    expect(Object.keys(input.getFields()).sort()).toEqual(Object.keys(shape.fields).sort());
    expect(Object.keys(output.getFields()).sort()).toEqual([...Object.keys(shape.fields), 'json'].sort());
    for (const [name, field] of Object.entries(shape.fields)) {
      expect(String(input.getFields()[name]!.type).endsWith('!'), name).toBe(field.required);
    }
    expect(Object.keys(overrides.getFields()).sort()).toEqual(
      Object.keys(shape.fields)
        .filter((f) => !(ARCHITECTURE_FIELDS as readonly string[]).includes(f))
        .sort(),
    );
  });

  it('make every zod enum a GraphQL enum with the same values', () => {
    for (const [name, field] of Object.entries(shape.fields)) {
      if (field.type.kind !== 'enum') continue;
      const type = getNamedType(input.getFields()[name]!.type);
      expect(type, name).toBeInstanceOf(GraphQLEnumType);
      expect(
        (type as GraphQLEnumType)
          .getValues()
          .map((v) => v.value)
          .sort(),
        name,
      ).toEqual([...field.type.values].sort());
      expect(getNamedType(output.getFields()[name]!.type), name).toBe(type);
    }
  });
});
