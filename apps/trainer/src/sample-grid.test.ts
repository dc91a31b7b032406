import * as tf from '@tensorflow/tfjs';
import { createTrainer, createUNet, makeSchedule, Rng, selectBackend } from '@dapple/models';
import { microUNetConfig, perturbWeights } from '@dapple/models/testing';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { GridSampler, gridLayout } from './sample-grid.ts';

const unet = microUNetConfig({ attentionResolutions: [], numClasses: 3 });

beforeAll(async () => {
  await selectBackend({ prefer: 'cpu' });
});

/** The grid's tiles as raw RGB rows of tiles: tiles[row][col] is the tile's pixels. */
async function tiles(png: Uint8Array, rows: number, cols: number): Promise<Buffer[][]> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const pad = 2;
  const side = unet.resolution;
  return Array.from({ length: rows }, (_, r) =>
    Array.from({ length: cols }, (_, c) => {
      const out = Buffer.alloc(side * side * 3);
      for (let y = 0; y < side; y++) {
        const top = pad + r * (side + pad) + y;
        const left = pad + c * (side + pad);
        data.copy(out, y * side * 3, (top * info.width + left) * 3, (top * info.width + left + side) * 3);
      }
      return out;
    }),
  );
}

describe('GridSampler', () => {
  it('draws one row per class from the same noise: with a label-blind model every row is the same, with labels they differ', async () => {
    const model = createUNet(unet, 3);
    const rng = new Rng(1);
    perturbWeights(model.variables, rng);
    const trainer = createTrainer({
      model,
      schedule: makeSchedule({ kind: 'cosine', T: 100 }),
      prediction: 'eps',
      optimizer: { kind: 'adam' },
      lr: 1e-3,
      ema: false,
      rng,
    });
    const layout = gridLayout(6, 3);
    const render = async (sampler: 'dpmpp-2m-sde' | 'ddim') => {
      const grids = new GridSampler(unet, makeSchedule({ kind: 'cosine', T: 100 }), 'eps', {
        count: 6,
        steps: 8,
        seed: 5,
        sampler,
        guidance: 3,
      });
      const { png } = await grids.render(trainer);
      grids.dispose();
      return tiles(png, layout.rows, layout.cols);
    };
    for (const sampler of ['dpmpp-2m-sde', 'ddim'] as const) {
      const labelled = await render(sampler);
      expect(labelled[1]![0]!.equals(labelled[0]![0]!)).toBe(false);
      expect(labelled[0]![0]!.equals(labelled[0]![1]!)).toBe(false); // columns have their own noise
    }
    // A zero label table makes the model ignore the label (guided or not): the rows must then be identical, pixel
    // for pixel, which holds only if each column's x_T and every step's noise are the same in every row.
    const table = model.variables.get('label_emb.kernel')!;
    table.assign(tf.zerosLike(table));
    for (const sampler of ['dpmpp-2m-sde', 'ddim'] as const) {
      const blind = await render(sampler);
      for (let row = 1; row < layout.rows; row++)
        for (let col = 0; col < layout.cols; col++) expect(blind[row]![col]!.equals(blind[0]![col]!)).toBe(true);
    }
    trainer.dispose();
    model.dispose();
  });
});
