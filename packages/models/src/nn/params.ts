import * as tf from '@tensorflow/tfjs';
import { InitRng, varianceScalingLimit } from './init.ts';

/**
 * Owns the model's trainable variables under stable dotted names (`down.0.res.1.conv1.kernel`):
 * checkpoints, optimizer state and EMA key on these names, so they must not change between versions.
 */
export class ParamStore {
  readonly variables = new Map<string, tf.Variable>();
  private readonly init: InitRng;

  constructor(seed: number) {
    this.init = new InitRng(seed);
  }

  private add(name: string, shape: number[], values: Float32Array): tf.Variable {
    if (this.variables.has(name)) throw new Error(`parameter ${name} is defined twice`);
    const initial = tf.tensor(values, shape);
    const v = tf.variable(initial, true, `${name}_${uniqueSuffix()}`);
    initial.dispose(); // the variable holds its own copy

    this.variables.set(name, v);
    return v;
  }

  /** Weight with variance-scaling (fan_avg, uniform) init. */
  weight(name: string, shape: number[], fanIn: number, fanOut: number, scale = 1): tf.Variable {
    const n = shape.reduce((a, b) => a * b, 1);
    const limit = varianceScalingLimit(fanIn, fanOut, scale);
    return this.add(name, shape, scale === 0 ? new Float32Array(n) : this.init.uniform(n, limit));
  }

  zeros(name: string, shape: number[]): tf.Variable {
    return this.add(name, shape, new Float32Array(shape.reduce((a, b) => a * b, 1)));
  }

  ones(name: string, shape: number[]): tf.Variable {
    return this.add(name, shape, new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(1));
  }
}

/** A model that owns its trainable variables (by stable name): counts them, and frees them when disposed. */
export abstract class VariableOwner {
  abstract readonly variables: Map<string, tf.Variable>;

  /** How many numbers the variables hold. */
  paramCount(): number {
    let n = 0;
    for (const v of this.variables.values()) n += v.size;
    return n;
  }

  /** Frees every variable and forgets them (the model is unusable afterwards). */
  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
  }
}

// TF.js variable names are global to the engine; several models (EMA copies, tests) may coexist.
let counter = 0;
function uniqueSuffix(): string {
  counter += 1;
  return counter.toString(36);
}
