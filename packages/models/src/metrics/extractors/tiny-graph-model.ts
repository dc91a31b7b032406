import type * as tf from '@tensorflow/tfjs';

/**
 * A tiny TF graph model in the exact layout tensorflowjs_converter writes (format 'graph-model',
 * GraphDef nodes in modelTopology, weights in weightsManifest), standing in for InceptionV3 in tests:
 * images [-1, size, size, 3] → `pool_3` = spatial mean [-1, 1, 1, 3] → reshape → `logits` = · W [3, k].
 */
export function tinyGraphModel(w: number[][], size = 299): { modelJson: tf.io.ModelJSON; weights: Uint8Array } {
  const k = w[0]!.length;
  const dim = (...sizes: number[]) => ({ dim: sizes.map((s) => ({ size: String(s) })) });
  const constNode = (name: string, dtype: 'DT_FLOAT' | 'DT_INT32', shape: number[]) => ({
    name,
    op: 'Const',
    attr: { dtype: { type: dtype }, value: { tensor: { dtype, tensorShape: dim(...shape) } } },
  });
  const modelJson = {
    format: 'graph-model',
    generatedBy: '2.15.0',
    convertedBy: 'dapple test (hand-written, same layout as tensorflowjs_converter)',
    modelTopology: {
      node: [
        {
          name: 'images',
          op: 'Placeholder',
          attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: dim(-1, size, size, 3) } },
        },
        constNode('axes', 'DT_INT32', [2]),
        {
          name: 'pool_3',
          op: 'Mean',
          input: ['images', 'axes'],
          attr: { keep_dims: { b: true }, T: { type: 'DT_FLOAT' }, Tidx: { type: 'DT_INT32' } },
        },
        constNode('flat_shape', 'DT_INT32', [2]),
        {
          name: 'flat',
          op: 'Reshape',
          input: ['pool_3', 'flat_shape'],
          attr: { T: { type: 'DT_FLOAT' }, Tshape: { type: 'DT_INT32' } },
        },
        constNode('W', 'DT_FLOAT', [3, k]),
        {
          name: 'logits',
          op: 'MatMul',
          input: ['flat', 'W'],
          attr: { transpose_a: { b: false }, transpose_b: { b: false }, T: { type: 'DT_FLOAT' } },
        },
      ],
      library: {},
      versions: { producer: 1286 },
    },
    weightsManifest: [
      {
        paths: ['group1-shard1of1.bin'],
        weights: [
          { name: 'axes', shape: [2], dtype: 'int32' },
          { name: 'flat_shape', shape: [2], dtype: 'int32' },
          { name: 'W', shape: [3, k], dtype: 'float32' },
        ],
      },
    ],
  } as unknown as tf.io.ModelJSON;
  const ints = new Int32Array([1, 2, -1, 3]);
  const floats = new Float32Array(w.flat());
  const weights = new Uint8Array(ints.byteLength + floats.byteLength);
  weights.set(new Uint8Array(ints.buffer), 0);
  weights.set(new Uint8Array(floats.buffer), ints.byteLength);
  return { modelJson, weights };
}
