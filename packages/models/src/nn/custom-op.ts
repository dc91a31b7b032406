import * as tf from '@tensorflow/tfjs';

/** What a custom op's forward returns: its value and how to turn dL/dvalue into dL/dinputs. */
export interface CustomOpResult<T extends tf.Tensor> {
  value: T;
  gradFunc: (dy: T, saved: tf.Tensor[]) => tf.Tensor[];
}

/** The parts of TF.js' engine (4.22) that saving without a clone op needs; checked before use. */
interface EngineInternals {
  isTapeOn(): boolean;
  makeTensorFromTensorInfo(info: tf.TensorInfo, backend?: unknown): tf.Tensor;
  state: {
    activeTape?: { saved: tf.Tensor[] }[];
    tensorInfo: { get(dataId: tf.DataId): { backend: { incRef?: (dataId: tf.DataId) => void } } | undefined };
  };
}

function engineInternals(): EngineInternals | null {
  const e = tf.engine() as unknown as Partial<EngineInternals>;
  return typeof e.isTapeOn === 'function' &&
    typeof e.makeTensorFromTensorInfo === 'function' &&
    typeof e.state?.tensorInfo?.get === 'function'
    ? (e as EngineInternals)
    : null;
}

/**
 * A new tensor sharing t's data (the backend's reference count keeps the data alive), kept out of tidy:
 * what TF.js' own save() makes with a clone, minus the Identity op and the tape node that clone records.
 * Null where the backend keeps no reference counts.
 */
function shareData(engine: EngineInternals, t: tf.Tensor): tf.Tensor | null {
  const backend = engine.state.tensorInfo.get(t.dataId)?.backend;
  if (!backend?.incRef) return null;
  try {
    backend.incRef(t.dataId);
  } catch {
    return null; // KernelBackend's default incRef throws "not yet implemented"
  }
  return tf.keep(engine.makeTensorFromTensorInfo({ dataId: t.dataId, shape: t.shape, dtype: t.dtype }, backend));
}

/**
 * A typed wrapper around tf.customGrad: `f` receives its inputs as an array plus the save function.
 *
 * Saving is ours: TF.js' save() clones every saved tensor with an Identity op and records that clone on the
 * tape, ~240 extra ops per training step of the tiny model (a tenth of its backward pass in dispatch). Here
 * a saved tensor is a second handle on the same data, appended to this op's tape node, whose saved tensors
 * TF.js disposes after the gradient as it does its own clones. Nothing is saved when no tape records (the
 * forward pass of sampling). Where the engine lacks what that needs, TF.js' save() is used.
 */
export function customOp<T extends tf.Tensor>(
  f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => CustomOpResult<T>,
): (...inputs: tf.Tensor[]) => T {
  // Set for the duration of one call while a tape records; the forward below runs inside that call.
  let recording: { engine: EngineInternals; shared: tf.Tensor[] } | null = null;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const tfSave = args[args.length - 1] as tf.GradSaveFunc;
    let saved: tf.Tensor[] | null = null;
    const save = (tensors: tf.Tensor[]) => {
      const shared = recording ? tensors.map((t) => shareData(recording!.engine, t)) : null;
      if (shared && shared.every((t) => t !== null)) {
        saved = shared;
        recording!.shared.push(...saved);
      } else {
        tf.dispose(shared?.filter((t): t is tf.Tensor => t !== null) ?? []);
        tfSave(tensors);
      }
    };
    const r = f(args.slice(0, -1) as tf.Tensor[], save);
    return {
      value: r.value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], tfSaved: tf.Tensor[]) => r.gradFunc(dy as T, saved ?? tfSaved),
    };
  });
  return (...inputs: tf.Tensor[]) => {
    const engine = engineInternals();
    const tape = engine?.isTapeOn() ? engine.state.activeTape : undefined;
    recording = engine && tape ? { engine, shared: [] } : null;
    try {
      const out = op(...inputs);
      // The op's tape node is the last one: nothing inside its forward pass is recorded.
      if (recording && recording.shared.length > 0) tape![tape!.length - 1]!.saved.push(...recording.shared);
      return out;
    } finally {
      recording = null;
    }
  };
}
