import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { Rng } from '../rng.ts';
import type { JsonValue } from '../checkpoint/types.ts';
import { ddimSample } from '../diffusion/samplers/ddim.ts';
import { toUint8Images } from '../diffusion/samplers/images.ts';
import { makeSchedule } from '../diffusion/schedule.ts';
import { createUNet } from '../diffusion/unet.ts';
import { microUNetConfig } from '../testing/micro-unet.ts';
import { publishedFiles } from '../testing/published-files.ts';
import { perturbWeights } from '../testing/perturb-weights.ts';
import { createModelSampler, loadModelForSampling, samplingSpecFromConfig, validateSampleRequest } from './index.ts';

const unet = microUNetConfig({ attentionResolutions: [], numClasses: 2 });
const config = { unet, run: { schedule: 'cosine', timesteps: 40, prediction: 'eps' } } as unknown as JsonValue;

let server: Server;
let base = '';
const files = new Map<string, { body: Uint8Array; type: string }>();
const requested: string[] = [];

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
  // A trained-looking model: perturb the zero-initialised output layer so samples depend on the weights.
  const model = createUNet(unet, 3);
  perturbWeights(model.variables, new Rng(5));
  const { modelJson, weights } = await publishedFiles({ weights: model.variables, config, step: 7 });
  model.dispose();
  files.set('/objects/m/model.json', { body: modelJson, type: 'application/json' });
  files.set('/objects/m/weights.bin', { body: weights, type: 'application/octet-stream' });
  // Like the hub's DiskStore URLs: every object has its own signature, so weights.bin cannot be found relative to model.json.
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requested.push(url.pathname);
    const file = files.get(url.pathname);
    if (!file || url.searchParams.get('sig') !== `ok-${url.pathname}`)
      return void res.writeHead(403).end('bad signature');
    res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.byteLength }).end(file.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

const signed = (path: string) => `${base}${path}?sig=ok-${path}`;

describe('loadModelForSampling over real HTTP', () => {
  it('loads model.json + weights from signed URLs and samples exactly what the in-process sampler gives', async () => {
    const sampler = await loadModelForSampling({
      modelJson: signed('/objects/m/model.json'),
      weights: { 'weights.bin': signed('/objects/m/weights.bin') },
    });
    expect(requested).toEqual(['/objects/m/model.json', '/objects/m/weights.bin']);
    expect(sampler.spec).toMatchObject({ schedule: { kind: 'cosine', T: 40 } });
    const progress: number[] = [];
    const a = await sampler.sample({
      count: 3,
      steps: 5,
      sampler: 'ddim',
      seed: 11,
      label: 1,
      guidance: 2,
      batchSize: 2,
      onProgress: (d) => progress.push(d),
    });
    expect(a.shape).toEqual([3, 8, 8, 3]);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    // Reference: the same weights through the plain sampler, one batch of 3.
    const model = createUNet(unet, 0);
    const rng = new Rng(5);
    const fresh = createUNet(unet, 3);
    for (const [name, v] of fresh.variables)
      model.variables.get(name)!.assign(tf.tidy(() => tf.add(v, tf.mul(rng.normal(v.shape), 0.05))));
    fresh.dispose();
    const labels = tf.tensor1d([1, 1, 1], 'int32');
    const x = await ddimSample({
      denoiser: (xt, t, l) => model.apply(xt, t, l),
      schedule: makeSchedule({ kind: 'cosine', T: 40 }),
      prediction: 'eps',
      shape: [3, 8, 8, 3],
      seed: 11,
      steps: 5,
      labels,
      guidanceScale: 2,
      nullLabel: 2,
    });
    const reference = await toUint8Images(x);
    tf.dispose([x, labels]);
    model.dispose();
    expect(Buffer.from(a.pixels).equals(Buffer.from(reference))).toBe(true);
    // Not all one colour: the weights really were used.
    expect(new Set(a.pixels).size).toBeGreaterThan(10);
    sampler.dispose();
  }, 120_000);

  it('fails with a readable error when a weights URL is missing or refused', async () => {
    await expect(loadModelForSampling({ modelJson: signed('/objects/m/model.json'), weights: {} })).rejects.toThrow(
      /no URL given for weights file weights.bin/,
    );
    await expect(
      loadModelForSampling({
        modelJson: signed('/objects/m/model.json'),
        weights: { 'weights.bin': `${base}/objects/m/weights.bin` },
      }),
    ).rejects.toThrow(/download of http:\/\/127.0.0.1:\d+\/objects\/m\/weights.bin failed: HTTP 403/);
    await expect(loadModelForSampling(`${base}/objects/m/model.json`)).rejects.toThrow(/model.json failed: HTTP 403/);
  });

  it('validates requests naming the field', () => {
    const spec = samplingSpecFromConfig(config);
    const ok = { count: 1, steps: 5, sampler: 'ddim' as const, seed: 0 };
    expect(() => validateSampleRequest(spec, { ...ok, count: 65 })).toThrow(/count must be an integer in \[1, 64\]/);
    expect(() => validateSampleRequest(spec, { ...ok, steps: 41 })).toThrow(/steps must be an integer in \[1, 40\]/);
    expect(() => validateSampleRequest(spec, { ...ok, label: 2 })).toThrow(/label must be an integer in \[0, 1\]/);
    expect(() => validateSampleRequest(spec, { ...ok, guidance: 2 })).toThrow(/guidance needs a label/);
    const uncond = samplingSpecFromConfig({ unet: { ...unet, numClasses: undefined }, run: { timesteps: 40 } });
    expect(() => validateSampleRequest(uncond, { ...ok, label: 0, guidance: 2 })).toThrow(
      /label: this model is unconditional/,
    );
    expect(() => createModelSampler({ weights: new Map(), config }, spec)).toThrow(/lack/);
  });
});

describe('browser safety', () => {
  it('imports no Node built-in module on the static import graph of browser/index.ts', () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const seen = new Set<string>();
    const nodeImports: string[] = [];
    const builtins = new Set(builtinModules);
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      // Static `import … from '…'` and `export … from '…'` only: dynamic imports are the guarded exceptions.
      for (const m of source.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)) {
        const spec = m[1]!;
        if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
        else if (spec.startsWith('node:') || builtins.has(spec.split('/')[0]!)) nodeImports.push(`${file}: ${spec}`);
      }
    };
    visit(resolve(here, 'index.ts'));
    expect(seen.size).toBeGreaterThan(10);
    expect(nodeImports).toEqual([]);
  });
});
