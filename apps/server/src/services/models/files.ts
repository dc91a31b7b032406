import type { ModelVersion } from '@dapple/db';
import type { ObjectStore } from '@dapple/storage';
import type { RequestMeta, ServiceDeps } from '../types.ts';
import type { ModelAccessService } from './access.ts';
import { VERSION_FILES } from './artifacts.ts';
import { zipSize, zipStream } from './zip-store.ts';

/** URLs handed out for model files live this long (the DiskStore and S3 allow at most 900 s). */
export const MODEL_URL_TTL_SEC = 600;

export interface VersionFileUrls {
  modelJsonUrl: string;
  weightsUrl: string;
  configUrl: string;
  cardUrl: string;
  expiresAt: Date;
}

/** Getting a version's files out of the hub: short-lived URLs (for TF.js in the browser) and the export zip. */
export class ModelFileService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly store: ObjectStore,
    private readonly access: ModelAccessService,
  ) {}

  /** Short-lived URLs of the files the browser needs to load the version with TF.js. */
  async files(version: ModelVersion): Promise<VersionFileUrls> {
    const sign = (name: string) =>
      this.store.presignGet(`${version.objectPrefix}${name}`, { expiresInSec: MODEL_URL_TTL_SEC });
    const [modelJson, weights, config, card] = await Promise.all([
      sign(VERSION_FILES.modelJson),
      sign(VERSION_FILES.weights),
      sign(VERSION_FILES.config),
      sign(VERSION_FILES.card),
    ]);
    return {
      modelJsonUrl: modelJson.url,
      weightsUrl: weights.url,
      configUrl: config.url,
      cardUrl: card.url,
      expiresAt: modelJson.expiresAt,
    };
  }

  async objectUrl(key: string): Promise<string> {
    return (await this.store.presignGet(key, { expiresInSec: MODEL_URL_TTL_SEC })).url;
  }

  /**
   * A zip of weights + config + model card (+ grid), built once per version (streamed into the store, never
   * held in memory) and handed out as a short-lived URL.
   */
  async export(
    meta: RequestMeta,
    versionId: string,
    shareToken?: string | null,
  ): Promise<{ url: string; expiresAt: Date; sizeBytes: number }> {
    const { version } = await this.access.requireVersionAccess(meta, versionId, 'read', { shareToken });
    const key = `${version.objectPrefix}${VERSION_FILES.export}`;
    let stat = await this.store.stat(key);
    if (!stat) {
      const names = [
        VERSION_FILES.modelJson,
        VERSION_FILES.weights,
        VERSION_FILES.config,
        VERSION_FILES.card,
        ...(version.sampleGridKey ? [VERSION_FILES.grid] : []),
      ];
      const entries = [];
      for (const name of names) {
        const s = await this.store.stat(`${version.objectPrefix}${name}`);
        if (!s) throw new Error(`model version ${version.id} lacks ${name} in the object store`);
        entries.push({
          name: name === VERSION_FILES.card ? 'MODEL_CARD.md' : name,
          size: s.size,
          open: async () => this.store.get(`${version.objectPrefix}${name}`) as Promise<AsyncIterable<Uint8Array>>,
        });
      }
      const size = zipSize(entries);
      // Two concurrent exports write the same bytes; the later put simply replaces the earlier one.
      await this.store.put(key, zipStream(entries, version.createdAt), { size, contentType: 'application/zip' });
      stat = { size, lastModified: this.deps.now() };
    }
    const signed = await this.store.presignGet(key, { expiresInSec: MODEL_URL_TTL_SEC });
    return { url: signed.url, expiresAt: signed.expiresAt, sizeBytes: stat.size };
  }
}
