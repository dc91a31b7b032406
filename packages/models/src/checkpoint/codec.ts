import * as tf from '@tensorflow/tfjs';
import { crc32 } from './crc32.ts';
import { float32ArrayToFloat16 } from './float16.ts';
import { MODEL_ARCHITECTURES, type JsonValue, type ModelArchitecture } from './types.ts';

/**
 * Shared encoding of tensor groups into tf.io ModelArtifacts: one concatenated weight buffer, weight
 * specs named `<group>/<name>`, and our JSON in `userDefinedMetadata.dapple` (with the buffer's length
 * and CRC-32 so truncation and corruption are reported as such, not as garbage weights).
 */
export const FORMAT_VERSION = 1;

export type Precision = 'float32' | 'float16';

export interface DappleMetadata {
  version: number;
  weightsBytes: number;
  weightsCrc32: number;
  [key: string]: JsonValue;
}

export async function encodeArtifacts(
  format: string,
  groups: ReadonlyArray<readonly [string, ReadonlyMap<string, tf.Tensor>]>,
  metadata: Record<string, JsonValue>,
  precision: Precision = 'float32',
): Promise<tf.io.ModelArtifacts> {
  const specs: tf.io.WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  for (const [group, tensors] of groups) {
    for (const [name, tensor] of tensors) {
      const fullName = `${group}/${name}`;
      if (tensor.isDisposed) throw new Error(`cannot save ${fullName}: the tensor is disposed`);
      if (tensor.dtype !== 'float32' && tensor.dtype !== 'int32') {
        throw new Error(`cannot save ${fullName}: dtype ${tensor.dtype} is not supported (float32 or int32)`);
      }
      const data = (await tensor.data()) as Float32Array | Int32Array;
      if (precision === 'float16' && tensor.dtype === 'float32') {
        const half = float32ArrayToFloat16(data as Float32Array);
        specs.push({ name: fullName, shape: tensor.shape, dtype: 'float32', quantization: { dtype: 'float16' } });
        chunks.push(new Uint8Array(half.buffer, half.byteOffset, half.byteLength));
      } else {
        specs.push({ name: fullName, shape: tensor.shape, dtype: tensor.dtype });
        chunks.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      }
    }
  }
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  const weights = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    weights.set(chunk, offset);
    offset += chunk.byteLength;
  }
  const dapple: DappleMetadata = {
    ...metadata,
    version: FORMAT_VERSION,
    weightsBytes: total,
    weightsCrc32: crc32(weights),
  };
  return {
    format,
    generatedBy: '@dapple/models',
    weightSpecs: specs,
    weightData: weights.buffer,
    userDefinedMetadata: { dapple: dapple as unknown as Record<string, never> },
  };
}

function specBytes(spec: tf.io.WeightsManifestEntry): number {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const q = spec.quantization?.dtype;
  if (q === 'float16' || q === 'uint16') return count * 2;
  if (q === 'uint8') return count;
  if (spec.dtype === 'float32' || spec.dtype === 'int32') return count * 4;
  if (spec.dtype === 'bool') return count;
  throw new Error(`weight ${spec.name}: dtype ${spec.dtype} is not supported`);
}

function weightBuffers(data: tf.io.WeightData): ArrayBuffer[] {
  return Array.isArray(data) ? data : [data];
}

/**
 * Checks format, version, length and CRC-32, then decodes the weights into groups. The caller owns the
 * returned tensors. `what` names the thing being loaded in error messages.
 */
export function decodeArtifacts(
  artifacts: tf.io.ModelArtifacts,
  format: string,
  what: string,
): { metadata: DappleMetadata; groups: Map<string, Map<string, tf.Tensor>> } {
  const metadata = artifacts.userDefinedMetadata?.['dapple'] as DappleMetadata | undefined;
  if (artifacts.format !== format || metadata === undefined) {
    throw new Error(`not a Dapple ${what}: expected format '${format}', found '${String(artifacts.format)}'`);
  }
  if (metadata.version !== FORMAT_VERSION) {
    throw new Error(
      `${what} has format version ${String(metadata.version)}; this build reads version ${FORMAT_VERSION}`,
    );
  }
  const specs = artifacts.weightSpecs;
  if (!specs || artifacts.weightData === undefined)
    throw new Error(`${what} has no weights (weightSpecs or weightData missing)`);
  const buffers = weightBuffers(artifacts.weightData);
  const actualBytes = buffers.reduce((n, b) => n + b.byteLength, 0);
  const neededBytes = specs.reduce((n, s) => n + specBytes(s), 0);
  if (actualBytes !== metadata.weightsBytes || actualBytes !== neededBytes) {
    throw new Error(
      `${what} weights are ${actualBytes < neededBytes ? 'truncated' : 'the wrong size'}: ` +
        `${actualBytes} bytes present, the manifest needs ${neededBytes} (recorded ${metadata.weightsBytes})`,
    );
  }
  const actualCrc = crc32(buffers);
  if (actualCrc !== metadata.weightsCrc32) {
    throw new Error(
      `${what} weights are corrupted: CRC-32 is ${actualCrc.toString(16)}, the manifest recorded ${metadata.weightsCrc32.toString(16)}`,
    );
  }
  const named = tf.io.decodeWeights(artifacts.weightData, specs);
  const groups = new Map<string, Map<string, tf.Tensor>>();
  for (const spec of specs) {
    const slash = spec.name.indexOf('/');
    const group = slash < 0 ? '' : spec.name.slice(0, slash);
    const name = spec.name.slice(slash + 1);
    let map = groups.get(group);
    if (!map) groups.set(group, (map = new Map<string, tf.Tensor>()));
    map.set(name, named[spec.name]!);
  }
  return { metadata, groups };
}

/** The architecture recorded in a file's metadata: absent (files from before the field) means 'ddpm'. */
export function architectureFromMetadata(metadata: DappleMetadata, what: string): ModelArchitecture {
  const value = metadata['architecture'];
  if (value === undefined || value === null) return 'ddpm';
  if (typeof value !== 'string' || !(MODEL_ARCHITECTURES as readonly string[]).includes(value))
    throw new Error(
      `${what} metadata architecture must be one of ${MODEL_ARCHITECTURES.join(', ')}, got ${JSON.stringify(value)}`,
    );
  return value as ModelArchitecture;
}

/**
 * The metadata a saved file starts with: its kind, then the architecture only when given (DDPM callers pass none,
 * and their files stay byte-for-byte what they were).
 */
export function headMetadata(kind: string, architecture: ModelArchitecture | undefined): Record<string, JsonValue> {
  const metadata: Record<string, JsonValue> = { kind };
  if (architecture !== undefined) metadata['architecture'] = checkArchitecture(architecture);
  return metadata;
}

/**
 * Loads and decodes a file of `format`, runs `check` on its metadata and reads its architecture; when either
 * throws, the decoded tensors are disposed first. The caller owns the returned tensors.
 */
export async function loadArtifacts(
  handler: tf.io.IOHandler,
  format: string,
  what: string,
  check: (metadata: DappleMetadata) => void = () => {},
): Promise<{ metadata: DappleMetadata; groups: Map<string, Map<string, tf.Tensor>>; architecture: ModelArchitecture }> {
  const artifacts = await requireLoad(handler)();
  const { metadata, groups } = decodeArtifacts(artifacts, format, what);
  try {
    check(metadata);
    return { metadata, groups, architecture: architectureFromMetadata(metadata, what) };
  } catch (error) {
    for (const group of groups.values()) for (const t of group.values()) t.dispose();
    throw error;
  }
}

/** Rejects an architecture the caller passed in that this build does not know. */
export function checkArchitecture(value: unknown): ModelArchitecture {
  if (typeof value !== 'string' || !(MODEL_ARCHITECTURES as readonly string[]).includes(value))
    throw new RangeError(`architecture must be one of ${MODEL_ARCHITECTURES.join(', ')}, got ${JSON.stringify(value)}`);
  return value as ModelArchitecture;
}

export function requireSave(handler: tf.io.IOHandler): NonNullable<tf.io.IOHandler['save']> {
  if (typeof handler.save !== 'function') throw new Error('the IOHandler cannot save (it has no save method)');
  return handler.save.bind(handler);
}

export function requireLoad(handler: tf.io.IOHandler): NonNullable<tf.io.IOHandler['load']> {
  if (typeof handler.load !== 'function') throw new Error('the IOHandler cannot load (it has no load method)');
  return handler.load.bind(handler);
}
