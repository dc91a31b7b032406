import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configShape, fromGraphQLEnums, graphqlEnumName, toGraphQLEnums } from './config-shape.ts';
import { runConfigFromGraphQL, runConfigShape, runConfigToGraphQL } from './run-config-shape.ts';

describe('configShape', () => {
  it('reads the run config: kinds, enums, required fields, bounds and defaults', () => {
    const shape = runConfigShape();
    // Both families' presets (the DDPM | Glow union merged into one shape).
    expect(shape.fields['preset']).toMatchObject({
      type: { kind: 'enum', values: ['tiny', 'small', 'base', 'glow-tiny', 'glow-small', 'glow-base'] },
      required: true,
    });
    expect(shape.fields['architecture']).toMatchObject({ type: { kind: 'enum', values: ['ddpm', 'glow'] } });
    expect(shape.fields['batchSize']).toMatchObject({ type: { kind: 'int' }, required: false, min: 1, max: 512 });
    expect(shape.fields['lr']).toMatchObject({ type: { kind: 'float' }, min: 0, exclusiveMin: true, max: 1 });
    // A DDPM-only field: the Glow member's refuse-it placeholder does not hide its type.
    expect(shape.fields['schedule']).toMatchObject({ type: { kind: 'enum' }, required: false });
    // Filled in by the schema's transform, not a default: optional to send.
    expect(shape.fields['steps']).toMatchObject({ required: false, hasDefault: false });
    expect(shape.fields['model']?.type).toMatchObject({ kind: 'object' });
    const model = shape.fields['model']!.type;
    expect(model.kind === 'object' && model.fields['channelMults']?.type).toEqual({
      kind: 'list',
      of: { kind: 'int' },
    });
    expect(model.kind === 'object' && model.fields['levels']?.type).toEqual({ kind: 'int' });
  });

  it('merges a discriminated union into one object (fields of some members optional, enums united)', () => {
    const base = { steps: z.number().int().min(1), preset: z.enum(['tiny', 'small']) };
    const schema = z
      .discriminatedUnion('architecture', [
        z.object({ architecture: z.literal('ddpm'), ...base, timesteps: z.number().int().default(1000) }),
        z.object({
          architecture: z.literal('glow'),
          ...base,
          preset: z.enum(['tiny', 'glow-s']),
          levels: z.number().int().min(1).max(6),
        }),
      ])
      .transform((c) => c);
    const shape = configShape(schema);
    expect(shape.fields['architecture']).toMatchObject({
      type: { kind: 'enum', values: ['ddpm', 'glow'] },
      required: true,
    });
    expect(shape.fields['preset']).toMatchObject({
      type: { kind: 'enum', values: ['tiny', 'small', 'glow-s'] },
      required: true,
    });
    expect(shape.fields['steps']).toMatchObject({ type: { kind: 'int' }, required: true });
    expect(shape.fields['timesteps']).toMatchObject({ type: { kind: 'int' }, required: false });
    expect(shape.fields['levels']).toMatchObject({ type: { kind: 'int' }, required: false });
    expect(toGraphQLEnums(shape, { architecture: 'glow', preset: 'glow-s' })).toEqual({
      architecture: 'GLOW',
      preset: 'GLOW_S',
    });
    expect(fromGraphQLEnums(shape, { architecture: 'GLOW', preset: 'GLOW_S' })).toEqual({
      architecture: 'glow',
      preset: 'glow-s',
    });
  });

  it('refuses a union whose members disagree on a field’s kind', () => {
    const schema = z.union([z.object({ a: z.number() }), z.object({ a: z.string() })]);
    expect(() => configShape(schema)).toThrow(/disagree on .*a \(float vs string\)/);
  });
});

describe('GraphQL enum names', () => {
  it('are upper case with what GraphQL names cannot hold as _', () => {
    expect(['tiny', 'adamw', 'x0', 'dpmpp-2m-sde'].map(graphqlEnumName)).toEqual([
      'TINY',
      'ADAMW',
      'X0',
      'DPMPP_2M_SDE',
    ]);
  });

  it('convert a run config both ways, leaving unknown values for the hub to name', () => {
    const config = {
      preset: 'tiny',
      optimizer: 'adamw',
      sampleSampler: 'dpmpp-2m-sde',
      model: { resolution: 28 },
      schedule: 'wavy',
    };
    const variables = runConfigToGraphQL(config);
    expect(variables).toEqual({
      preset: 'TINY',
      optimizer: 'ADAMW',
      sampleSampler: 'DPMPP_2M_SDE',
      model: { resolution: 28 },
      schedule: 'wavy',
    });
    expect(runConfigFromGraphQL(variables)).toEqual(config);
  });
});
