import type * as tf from '@tensorflow/tfjs';
import { ddimSample } from './ddim.ts';
import { ddpmSample } from './ddpm.ts';
import { dpmSolverSample } from './dpm-solver.ts';
import { SAMPLER_KINDS, type SamplerKind } from './kinds.ts';
import type { SampleOptions } from './types.ts';

export interface SampleWithOptions extends SampleOptions {
  sampler: SamplerKind;
  steps: number;
  /** DDIM only: 0 = deterministic (default), 1 = DDPM-like. */
  eta?: number;
}

/** Runs the named sampler: the one entry point for grids, the hub and the browser. */
export function sampleWith(opts: SampleWithOptions): Promise<tf.Tensor4D> {
  const { sampler, eta, ...rest } = opts;
  switch (sampler) {
    case 'ddim':
      return ddimSample({ ...rest, eta: eta ?? 0 });
    case 'ddpm':
      return ddpmSample(rest);
    case 'dpmpp-2m':
      return dpmSolverSample(rest);
    case 'dpmpp-2m-sde':
      return dpmSolverSample({ ...rest, stochastic: true });
    default:
      return Promise.reject(
        new RangeError(`sampler must be one of ${SAMPLER_KINDS.join(', ')}, got ${String(sampler as unknown)}`),
      );
  }
}
