import { Rng } from '../rng.ts';

/** A labelled image set drawn by syntheticDigits / syntheticIcons. */
export interface SyntheticImages {
  /** Row-major [count, size, size, 3] pixels in [-1, 1]. */
  pixels: Float32Array;
  labels: Int32Array;
  count: number;
  size: number;
  classes: number;
}

/** Labels 0…classes−1 in equal shares (as far as count allows), in a seeded random order. */
function balancedLabels(rng: Rng, count: number, classes: number): Int32Array {
  const order = rng.permutation(count);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) labels[order[i]!] = i % classes;
  return labels;
}

function checkSize(size: number): void {
  if (!Number.isInteger(size) || size < 16) throw new RangeError(`size must be an integer ≥ 16, got ${size}`);
}

/**
 * A labelled image set the evaluation tests (and bench/evaluation-ranking.ts) draw themselves, so that
 * "real", "another real sample", "upside down", "mean image" and "noise" are known by construction:
 * the ten digits of a 5×7 bitmap font, each drawn at a random scale (2–3 px per font pixel) and position
 * in one random saturated colour on a dark background, with slight pixel noise. Digits 0, 1, 8 and 3
 * are nearly symmetric under an upside-down flip, the others are not (6 ↔ 9 swap; 2, 4, 5, 7 become
 * non-digits), so a flipped set differs in shape statistics while keeping every colour statistic.
 */
const FONT: readonly string[][] = [
  ['01110', '10001', '10011', '10101', '11001', '10001', '01110'],
  ['00100', '01100', '00100', '00100', '00100', '00100', '01110'],
  ['01110', '10001', '00001', '00010', '00100', '01000', '11111'],
  ['11111', '00010', '00100', '00010', '00001', '10001', '01110'],
  ['00010', '00110', '01010', '10010', '11111', '00010', '00010'],
  ['11111', '10000', '11110', '00001', '00001', '10001', '01110'],
  ['00110', '01000', '10000', '11110', '10001', '10001', '01110'],
  ['11111', '00001', '00010', '00100', '01000', '01000', '01000'],
  ['01110', '10001', '10001', '01110', '10001', '10001', '01110'],
  ['01110', '10001', '10001', '01111', '00001', '00010', '01100'],
];

export const DIGIT_CLASSES = FONT.length;

/**
 * `count` digit images of size×size×3 (size ≥ 16), labels cycling 0–9 then shuffled, reproducible for a seed.
 * `classes` limits the digits used (the first `classes` of 0–9).
 */
export function syntheticDigits(count: number, size: number, seed: number, classes = DIGIT_CLASSES): SyntheticImages {
  checkSize(size);
  if (!Number.isInteger(classes) || classes < 1 || classes > DIGIT_CLASSES)
    throw new RangeError(`classes must be an integer in [1, ${DIGIT_CLASSES}], got ${classes}`);
  const rng = new Rng(seed);
  const labels = balancedLabels(rng, count, classes);
  const pixels = new Float32Array(count * size * size * 3);
  const maxScale = Math.min(3, (size - 2) / 7);
  for (let n = 0; n < count; n++) {
    const glyph = FONT[labels[n]!]!;
    const [u0, u1, u2, u3, u4, u5, u6] = rng.uniformArray(7);
    const scale = 2 + u0! * (maxScale - 2);
    const ox = u1! * (size - 5 * scale);
    const oy = u2! * (size - 7 * scale);
    // One channel high, one random, one low: a saturated colour of any hue.
    const hi = Math.floor(u3! * 3);
    const mid = (hi + 1 + Math.floor(u4! * 2)) % 3;
    const colour = [0, 1, 2].map((c) => (c === hi ? 0.9 : c === mid ? -0.9 + 1.8 * u5! : -0.9 + 0.4 * u5!));
    const background = -0.95 + 0.15 * u6!;
    const noise = rng.normalArray(size * size * 3);
    for (let y = 0; y < size; y++) {
      const row = Math.floor((y - oy) / scale);
      for (let x = 0; x < size; x++) {
        const col = Math.floor((x - ox) / scale);
        const on = row >= 0 && row < 7 && col >= 0 && col < 5 && glyph[row]![col] === '1';
        for (let c = 0; c < 3; c++) {
          const i = (y * size + x) * 3 + c;
          const v = (on ? colour[c]! : background) + 0.03 * noise[i]!;
          pixels[n * size * size * 3 + i] = Math.max(-1, Math.min(1, v));
        }
      }
    }
  }
  return { pixels, labels, count, size, classes };
}

/** The same images upside down (rows reversed), labels kept. */
export function flipUpsideDown(set: SyntheticImages): SyntheticImages {
  const { size, count } = set;
  const row = size * 3;
  const pixels = new Float32Array(set.pixels.length);
  for (let n = 0; n < count; n++) {
    for (let y = 0; y < size; y++) {
      const from = (n * size + y) * row;
      const to = (n * size + (size - 1 - y)) * row;
      pixels.set(set.pixels.subarray(from, from + row), to);
    }
  }
  return { ...set, pixels };
}

type Rgb = readonly [number, number, number];
/** A part of an icon: which points of its box (u right, v down, both in [0, 1]) it covers, and its colour. */
type Part = [inside: (u: number, v: number) => boolean, colour: Rgb];

const rect = (u0: number, u1: number, v0: number, v1: number) => (u: number, v: number) =>
  u >= u0 && u <= u1 && v >= v0 && v <= v1;
const disk = (cu: number, cv: number, r: number) => (u: number, v: number) => (u - cu) ** 2 + (v - cv) ** 2 <= r * r;
/** Inside the triangle (a, b, c): the three edge functions agree in sign. */
const triangle =
  (a: [number, number], b: [number, number], c: [number, number]) =>
  (u: number, v: number): boolean => {
    const e = (p: [number, number], q: [number, number]) => (q[0] - p[0]) * (v - p[1]) - (q[1] - p[1]) * (u - p[0]);
    const [x, y, z] = [e(a, b), e(b, c), e(c, a)];
    return (x >= 0 && y >= 0 && z >= 0) || (x <= 0 && y <= 0 && z <= 0);
  };

/**
 * Eight icon classes, each an object with a fixed up and down (a tree's crown above its trunk, a roof
 * above a house, a head above a body, …), as pictures of things usually have. `pick` draws the colours
 * that vary between images. [name, box width / height, parts back to front].
 */
const ICONS: readonly [string, number, (pick: (base: Rgb, spread?: number) => Rgb) => Part[]][] = [
  [
    'tree',
    0.8,
    (pick) => [
      [rect(0.4, 0.6, 0.55, 1), pick([0.45, 0.3, 0.15])],
      [disk(0.5, 0.35, 0.35), pick([0.15, 0.6, 0.2])],
    ],
  ],
  [
    'house',
    0.9,
    (pick) => [
      [rect(0.15, 0.85, 0.45, 1), pick([0.6, 0.6, 0.6], 0.35)],
      [triangle([0, 0.48], [1, 0.48], [0.5, 0]), pick([0.6, 0.15, 0.1])],
      [rect(0.42, 0.58, 0.7, 1), pick([0.3, 0.2, 0.1])],
    ],
  ],
  [
    'mushroom',
    0.9,
    (pick) => [
      [rect(0.36, 0.64, 0.45, 1), pick([0.9, 0.85, 0.7], 0.08)],
      [(u, v) => v <= 0.5 && disk(0.5, 0.5, 0.5)(u, v), pick([0.85, 0.12, 0.1])],
    ],
  ],
  [
    'person',
    0.55,
    (pick) => [
      [disk(0.5, 0.13, 0.13), pick([0.95, 0.75, 0.6], 0.08)],
      [rect(0.18, 0.82, 0.28, 0.65), pick([0.5, 0.5, 0.5], 0.45)],
      [rect(0.22, 0.46, 0.65, 1), pick([0.15, 0.2, 0.6])],
      [rect(0.54, 0.78, 0.65, 1), pick([0.15, 0.2, 0.6])],
    ],
  ],
  [
    'arrow',
    0.8,
    (pick) => {
      const colour = pick([0.5, 0.5, 0.5], 0.45);
      return [
        [triangle([0, 0.45], [1, 0.45], [0.5, 0]), colour],
        [rect(0.35, 0.65, 0.45, 1), colour],
      ];
    },
  ],
  [
    'flower',
    0.7,
    (pick) => [
      [rect(0.45, 0.55, 0.35, 1), pick([0.2, 0.55, 0.2])],
      [triangle([0.5, 0.62], [0.95, 0.5], [0.5, 0.8]), pick([0.2, 0.55, 0.2])],
      [disk(0.5, 0.27, 0.27), pick([0.8, 0.4, 0.7], 0.25)],
      [disk(0.5, 0.27, 0.09), pick([0.95, 0.85, 0.2], 0.05)],
    ],
  ],
  [
    'ice cream',
    0.7,
    (pick) => [
      [triangle([0.15, 0.45], [0.85, 0.45], [0.5, 1]), pick([0.85, 0.65, 0.35], 0.08)],
      [disk(0.5, 0.3, 0.3), pick([0.8, 0.6, 0.6], 0.25)],
    ],
  ],
  [
    'sailboat',
    0.9,
    (pick) => [
      [(u, v) => v >= 0.75 && u >= 0.05 + 0.6 * (v - 0.75) && u <= 0.95 - 0.6 * (v - 0.75), pick([0.45, 0.28, 0.12])],
      [rect(0.47, 0.53, 0, 0.75), pick([0.25, 0.2, 0.15])],
      [triangle([0.55, 0.05], [0.55, 0.7], [0.95, 0.7]), pick([0.92, 0.92, 0.88], 0.06)],
    ],
  ],
];

export const ICON_CLASSES = ICONS.length;
export const ICON_NAMES: readonly string[] = ICONS.map(([name]) => name);

/**
 * `count` colour icons of size×size×3 (size ≥ 16): eight classes that differ in shape and colour
 * (tree, house, mushroom, person, arrow, flower, ice cream, sailboat), each drawn at a random height
 * (60–85 % of the image), position and colour jitter on a random muted background, 2×2 supersampled,
 * with slight pixel noise. Every class has a natural up and down, so an upside-down set is clearly
 * another distribution; labels in equal shares, reproducible for a seed.
 */
export function syntheticIcons(count: number, size: number, seed: number): SyntheticImages {
  checkSize(size);
  const rng = new Rng(seed);
  const labels = balancedLabels(rng, count, ICON_CLASSES);
  const pixels = new Float32Array(count * size * size * 3);
  const image = new Float32Array(size * size * 3);
  for (let n = 0; n < count; n++) {
    const [, aspect, parts] = ICONS[labels[n]!]!;
    const pick = (base: Rgb, spread = 0.12): Rgb => {
      const u = rng.uniformArray(3);
      return [0, 1, 2].map((c) => Math.max(0, Math.min(1, base[c]! + spread * (2 * u[c]! - 1)))) as unknown as Rgb;
    };
    const drawn = parts(pick);
    const [uh, ux, uy] = rng.uniformArray(3);
    const height = size * (0.6 + 0.25 * uh!);
    const width = height * aspect;
    const left = 1 + ux! * (size - 2 - width);
    const top = 1 + uy! * (size - 2 - height);
    const background = pick([0.3, 0.35, 0.4], 0.25);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const colour = [0, 0, 0];
        // 2×2 samples per pixel; the last part covering a sample paints it.
        for (const [sy, sx] of [
          [0.25, 0.25],
          [0.25, 0.75],
          [0.75, 0.25],
          [0.75, 0.75],
        ] as const) {
          const u = (x + sx - left) / width;
          const v = (y + sy - top) / height;
          let painted: Rgb = background;
          if (u >= 0 && u <= 1 && v >= 0 && v <= 1) for (const [inside, c] of drawn) if (inside(u, v)) painted = c;
          for (let c = 0; c < 3; c++) colour[c]! += painted[c]! / 4;
        }
        for (let c = 0; c < 3; c++) image[(y * size + x) * 3 + c] = colour[c]! * 2 - 1;
      }
    }
    const noise = rng.normalArray(size * size * 3);
    for (let i = 0; i < image.length; i++)
      pixels[n * image.length + i] = Math.max(-1, Math.min(1, image[i]! + 0.03 * noise[i]!));
  }
  return { pixels, labels, count, size, classes: ICON_CLASSES };
}

/** The same images plus Gaussian pixel noise of std `sigma` (in [-1, 1] units), clipped: "slightly degraded" samples. */
export function withPixelNoise(set: SyntheticImages, sigma: number, seed: number): SyntheticImages {
  const noise = new Rng(seed).normalArray(set.pixels.length);
  const pixels = set.pixels.map((v, i) => Math.max(-1, Math.min(1, v + sigma * noise[i]!)));
  return { ...set, pixels };
}

/** The pixel-wise mean of a set's images, size×size×3: what a collapsed model that outputs its data mean makes. */
export function meanImage(set: SyntheticImages): Float32Array {
  const per = set.size * set.size * 3;
  const mean = new Float64Array(per);
  for (let i = 0; i < set.pixels.length; i++) mean[i % per]! += set.pixels[i]!;
  return Float32Array.from(mean, (v) => v / set.count);
}

/** `count` images of N(0, 1) pixel noise clipped to [-1, 1]: what an untrained diffusion model samples. */
export function noiseImages(count: number, size: number, seed: number): Float32Array {
  return new Rng(seed).normalArray(count * size * size * 3).map((v) => Math.max(-1, Math.min(1, v)));
}
