import {
  MODEL_SHARE_ROLES,
  MODEL_VISIBILITIES,
  type AliasEvent,
  type Model,
  type ModelAlias,
  type ModelShareRole,
  type ModelVersion,
  type ModelVisibility,
  type ShareLink,
} from '@dapple/db';
import type { Context } from '../context.ts';
import { forbidden } from '../../services/errors.ts';
import { MODEL_NEEDS, type ModelAccess, type ModelNeed, type ShareWithGrantee } from '../../services/models/index.ts';
import { builder } from '../builder.ts';
import { ArchitectureEnum } from './glow.ts';
import { upperCaseValues } from '../enum-values.ts';

/**
 * Every model/version object carries the access it was resolved with, so nested fields (files, shares,
 * links) check the same principal (a share link's access stays read + sample) without asking again.
 */
interface ModelView {
  model: Model;
  access: ModelAccess;
}
interface VersionView {
  version: ModelVersion;
  access: ModelAccess;
  shareToken: string | null;
}

const VisibilityEnum = builder.enumType('ModelVisibility', {
  description:
    'PRIVATE: team admins, the creator and explicit shares. TEAM: every team member by role. PUBLIC: also every signed-in user (read + sample).',
  values: upperCaseValues<ModelVisibility>(MODEL_VISIBILITIES),
});
const ShareRoleEnum = builder.enumType('ModelShareRole', {
  description: 'VIEWER: read and sample. EDITOR: also publish versions and move aliases.',
  values: upperCaseValues<ModelShareRole>(MODEL_SHARE_ROLES),
});
const PrecisionEnum = builder.enumType('WeightsPrecision', {
  values: { FLOAT16: { value: 'float16' }, FLOAT32: { value: 'float32' } } as const,
});
const NeedEnum = builder.enumType('ModelPermission', { values: upperCaseValues<ModelNeed>(MODEL_NEEDS) });

const need = (view: { access: ModelAccess }, n: ModelNeed) => {
  if (!view.access.can(n)) throw forbidden(`This needs the ${n} permission on the model`);
};

const ModelMetricRef = builder
  .objectRef<{ key: string; step: number | null; last: number | null; mean: number | null }>('ModelMetric')
  .implement({
    description:
      'A training metric at publish time: the last value at or before the published step and the mean over the 100 steps up to it.',
    fields: (t) => ({
      key: t.exposeString('key'),
      step: t.exposeInt('step', { nullable: true }),
      last: t.exposeFloat('last', { nullable: true }),
      mean: t.exposeFloat('mean', { nullable: true }),
    }),
  });

const ModelVersionFilesRef = builder
  .objectRef<{ modelJsonUrl: string; weightsUrl: string; configUrl: string; cardUrl: string; expiresAt: Date }>(
    'ModelVersionFiles',
  )
  .implement({
    description:
      'Short-lived URLs for loading the version in a browser: `loadModelForSampling({ modelJson: modelJsonUrl, weights: { "weights.bin": weightsUrl } })` ' +
      'from @dapple/models/browser. model.json carries the sampling config (UNet, schedule, prediction, labelNames). Ask again after expiresAt.',
    fields: (t) => ({
      modelJsonUrl: t.exposeString('modelJsonUrl'),
      weightsUrl: t.exposeString('weightsUrl'),
      configUrl: t.exposeString('configUrl'),
      cardUrl: t.exposeString('cardUrl'),
      expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    }),
  });

export const ModelVersionRef = builder.objectRef<VersionView>('ModelVersion');
export const ModelRef = builder.objectRef<ModelView>('Model');

const AliasRef = builder.objectRef<{ alias: ModelAlias; access: ModelAccess }>('ModelAlias').implement({
  fields: (t) => ({
    name: t.string({ resolve: (a) => a.alias.name }),
    versionId: t.id({ resolve: (a) => a.alias.versionId }),
    updatedAt: t.field({ type: 'DateTime', resolve: (a) => a.alias.updatedAt }),
  }),
});

const AliasEventRef = builder.objectRef<AliasEvent>('ModelAliasEvent').implement({
  description: 'One move of an alias (audit trail). fromNumber null: created; toNumber null: removed.',
  fields: (t) => ({
    aliasName: t.exposeString('aliasName'),
    fromVersionId: t.exposeID('fromVersionId', { nullable: true }),
    fromNumber: t.exposeInt('fromNumber', { nullable: true }),
    toVersionId: t.exposeID('toVersionId', { nullable: true }),
    toNumber: t.exposeInt('toNumber', { nullable: true }),
    reason: t.exposeString('reason'),
    actorId: t.exposeID('actorId', { nullable: true }),
    at: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const ShareRef = builder.objectRef<ShareWithGrantee>('ModelShare').implement({
  fields: (t) => ({
    id: t.id({ resolve: (s) => s.share.id }),
    role: t.field({ type: ShareRoleEnum, resolve: (s) => s.share.role }),
    userId: t.id({ nullable: true, resolve: (s) => s.share.granteeUserId }),
    userEmail: t.string({ nullable: true, resolve: (s) => s.userEmail }),
    userName: t.string({ nullable: true, resolve: (s) => s.userName }),
    teamId: t.id({ nullable: true, resolve: (s) => s.share.granteeTeamId }),
    teamName: t.string({ nullable: true, resolve: (s) => s.teamName }),
    createdAt: t.field({ type: 'DateTime', resolve: (s) => s.share.createdAt }),
  }),
});

const ShareLinkRef = builder.objectRef<ShareLink>('ShareLink').implement({
  description: 'An anonymous read + sample link to one model. The token itself is shown only by createShareLink.',
  fields: (t) => ({
    id: t.exposeID('id'),
    prefix: t.exposeString('prefix', { description: 'The first characters of the token, to tell links apart.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    active: t.boolean({ resolve: (l, _a, ctx) => ctx.services.modelShares.isActive(l) }),
  }),
});

ModelVersionRef.implement({
  description: 'An immutable published version: EMA inference weights, config, model card, metrics snapshot.',
  fields: (t) => ({
    id: t.id({ resolve: (v) => v.version.id }),
    number: t.int({ resolve: (v) => v.version.number }),
    modelId: t.id({ resolve: (v) => v.version.modelId }),
    model: t.field({ type: ModelRef, resolve: (v) => ({ model: v.access.model, access: v.access }) }),
    runId: t.id({ resolve: (v) => v.version.runId }),
    step: t.int({ resolve: (v) => v.version.step }),
    weightsPrecision: t.field({ type: PrecisionEnum, resolve: (v) => v.version.weightsDtype as 'float16' | 'float32' }),
    weightsBytes: t.float({ resolve: (v) => v.version.weightsBytes }),
    configJson: t.string({
      description: 'UNet config, schedule, prediction type and training config, as JSON.',
      resolve: (v) => JSON.stringify(v.version.config),
    }),
    predictionType: t.string({
      nullable: true,
      description: 'DDPM versions: what the UNet predicts (eps | v | x0); null for Glow.',
      resolve: (v) => v.version.config.predictionType ?? null,
    }),
    architecture: t.field({
      type: ArchitectureEnum,
      description: 'DDPM (diffusion UNet) or GLOW (normalizing flow): what the weights are.',
      resolve: (v) => (v.version.config.architecture === 'glow' ? 'glow' : 'ddpm'),
    }),
    resolution: t.int({ resolve: (v) => v.version.resolution }),
    channels: t.int({ resolve: (v) => v.version.channels }),
    labelNames: t.stringList({ resolve: (v) => v.version.labelNames }),
    datasetVersionId: t.id({ nullable: true, resolve: (v) => v.version.datasetVersionId }),
    datasetVersionHash: t.string({ nullable: true, resolve: (v) => v.version.datasetVersionHash }),
    metrics: t.field({
      type: [ModelMetricRef],
      resolve: (v) =>
        Object.entries(
          v.version.metrics as Record<string, { step: number | null; last: number | null; mean: number | null }>,
        ).map(([key, m]) => ({ key, ...m })),
    }),
    sampleGridStep: t.int({ nullable: true, resolve: (v) => v.version.sampleGridStep }),
    sampleGridUrl: t.string({
      nullable: true,
      description: "The run's sample grid nearest to the published step (copied into the version). Valid 10 minutes.",
      resolve: (v, _a, ctx) =>
        v.version.sampleGridKey ? ctx.services.modelFiles.objectUrl(v.version.sampleGridKey) : null,
    }),
    modelCard: t.string({ description: 'MODEL_CARD.md (markdown).', resolve: (v) => v.version.modelCard }),
    notes: t.string({ resolve: (v) => v.version.notes }),
    aliases: t.stringList({
      resolve: async (v, _a, ctx) =>
        (await ctx.loaders.modelAliases.load(v.version.modelId))
          .filter((a) => a.versionId === v.version.id)
          .map((a) => a.name),
    }),
    createdBy: t.string({
      nullable: true,
      description: 'Name of the publisher.',
      resolve: (v, _a, ctx) => (v.version.createdBy ? ctx.loaders.userNames.load(v.version.createdBy) : null),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (v) => v.version.createdAt }),
    files: t.field({
      type: ModelVersionFilesRef,
      description:
        'URLs of model.json, weights.bin, config.json and the card, for in-browser sampling. Needs read access (a share link has it).',
      resolve: (v, _a, ctx) => {
        need(v, 'read');
        return ctx.services.modelFiles.files(v.version);
      },
    }),
  }),
});

ModelRef.implement({
  fields: (t) => ({
    id: t.id({ resolve: (m) => m.model.id }),
    teamId: t.id({ resolve: (m) => m.model.teamId }),
    name: t.string({ resolve: (m) => m.model.name }),
    description: t.string({ resolve: (m) => m.model.description }),
    visibility: t.field({ type: VisibilityEnum, resolve: (m) => m.model.visibility }),
    createdAt: t.field({ type: 'DateTime', resolve: (m) => m.model.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (m) => m.model.updatedAt }),
    viewerPermissions: t.field({
      type: [NeedEnum],
      description: 'What the caller may do with this model.',
      resolve: (m) => MODEL_NEEDS.filter((n) => m.access.can(n)),
    }),
    versions: t.field({
      type: [ModelVersionRef],
      description: 'Newest first.',
      resolve: async (m, _a, ctx) =>
        (await ctx.loaders.modelVersions.load(m.model.id)).map((version) => ({
          version,
          access: m.access,
          shareToken: null,
        })),
    }),
    version: t.field({
      type: ModelVersionRef,
      nullable: true,
      args: { number: t.arg.int(), alias: t.arg.string() },
      description: 'One version by number or by alias (e.g. "latest").',
      resolve: async (m, args, ctx) => {
        const versions = await ctx.services.models.versions(m.model.id);
        let version: ModelVersion | undefined;
        if (args.number != null) version = versions.find((v) => v.number === args.number);
        else if (args.alias != null) {
          const alias = (await ctx.services.modelAliases.list(m.model.id)).find(
            (a) => a.name === args.alias!.trim().toLowerCase(),
          );
          version = alias ? versions.find((v) => v.id === alias.versionId) : undefined;
        } else version = versions[0];
        return version ? { version, access: m.access, shareToken: null } : null;
      },
    }),
    aliases: t.field({
      type: [AliasRef],
      resolve: async (m, _a, ctx) =>
        (await ctx.loaders.modelAliases.load(m.model.id)).map((alias) => ({ alias, access: m.access })),
    }),
    aliasEvents: t.field({
      type: [AliasEventRef],
      args: { first: t.arg.int({ defaultValue: 100 }) },
      description: 'Audit trail of alias moves, newest first. Hidden from share links.',
      resolve: (m, args, ctx) => {
        if (m.access.principal.kind === 'shareLink')
          throw forbidden('A share link allows only reading and sampling the model');
        return ctx.services.modelAliases.events(m.model.id, args.first ?? 100);
      },
    }),
    shares: t.field({
      type: [ShareRef],
      description: 'Users and teams the model is shared with (team admins only).',
      resolve: (m, _a, ctx) => {
        need(m, 'share');
        return ctx.services.modelShares.shares(m.model.id);
      },
    }),
    shareLinks: t.field({
      type: [ShareLinkRef],
      description: 'Share links, revoked and expired ones included (team admins only).',
      resolve: (m, _a, ctx) => {
        need(m, 'share');
        return ctx.services.modelShares.links(m.model.id);
      },
    }),
  }),
});

const view = async (ctx: Context, model: Model): Promise<ModelView> => ({
  model,
  access: await ctx.services.modelAccess.accessTo(ctx, model),
});

builder.queryFields((t) => ({
  models: t.field({
    type: [ModelRef],
    authScopes: { authenticated: true },
    description:
      'Models of the team the caller may read, plus (includeShared, default true) models shared with the caller or the team. Newest activity first.',
    args: {
      teamId: t.arg.id({ required: true }),
      search: t.arg.string(),
      includeShared: t.arg.boolean(),
      first: t.arg.int(),
    },
    resolve: async (_r, args, ctx) => {
      const list = await ctx.services.models.list(ctx, String(args.teamId), {
        search: args.search,
        includeShared: args.includeShared,
        first: args.first,
      });
      return Promise.all(list.map((m) => view(ctx, m)));
    },
  }),
  model: t.field({
    type: ModelRef,
    args: {
      id: t.arg.id({ required: true }),
      shareToken: t.arg.string({ description: 'A share link token (dpl_share_…) instead of signing in.' }),
    },
    resolve: async (_r, args, ctx) => {
      const access = await ctx.services.modelAccess.requireModelAccess(ctx, String(args.id), 'read', {
        shareToken: args.shareToken,
      });
      return { model: access.model, access };
    },
  }),
  modelVersion: t.field({
    type: ModelVersionRef,
    args: {
      id: t.arg.id({ required: true }),
      shareToken: t.arg.string({ description: 'A share link token (dpl_share_…) instead of signing in.' }),
    },
    resolve: async (_r, args, ctx) => {
      const { version, access } = await ctx.services.modelAccess.requireVersionAccess(ctx, String(args.id), 'read', {
        shareToken: args.shareToken,
      });
      return { version, access, shareToken: args.shareToken ?? null };
    },
  }),
  sharedModel: t.field({
    type: ModelRef,
    description:
      'Anonymous read-only access through a share link token: the model, its versions and their files. FORBIDDEN once revoked or expired.',
    args: { token: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) => ctx.services.modelShares.sharedModel(ctx, args.token),
  }),
}));

const PublishModelInput = builder.inputType('PublishModelInput', {
  fields: (t) => ({
    runId: t.id({ required: true }),
    step: t.int({ required: true, description: 'A step the run has a checkpoint at.' }),
    modelId: t.id({ description: 'Publish as the next version of this model…' }),
    modelName: t.string({
      description: "…or of the run team's model with this name (created when missing). Give exactly one.",
    }),
    notes: t.string({ description: 'Release notes for this version (markdown, in the model card).' }),
    description: t.string({ description: 'Description of a newly created model.' }),
    precision: t.field({
      type: PrecisionEnum,
      description: 'Weights precision. Default FLOAT16: half the download, dequantized to float32 on load.',
    }),
  }),
});

const UpdateModelInput = builder.inputType('UpdateModelInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    description: t.string(),
    visibility: t.field({ type: VisibilityEnum, description: 'Team admins only.' }),
  }),
});

const ShareModelInput = builder.inputType('ShareModelInput', {
  fields: (t) => ({
    modelId: t.id({ required: true }),
    teamId: t.id({ description: 'Share with every member of this team…' }),
    userEmail: t.string({ description: '…or with the user who has this email. Give exactly one.' }),
    role: t.field({ type: ShareRoleEnum, required: true }),
  }),
});

const PublishResultRef = builder.objectRef<{ model: ModelView; version: VersionView }>('PublishModelResult').implement({
  fields: (t) => ({
    model: t.field({ type: ModelRef, resolve: (r) => r.model }),
    version: t.field({ type: ModelVersionRef, resolve: (r) => r.version }),
  }),
});

const CreatedShareLinkRef = builder.objectRef<{ link: ShareLink; token: string }>('CreatedShareLink').implement({
  fields: (t) => ({
    link: t.field({ type: ShareLinkRef, resolve: (r) => r.link }),
    token: t.string({
      description:
        'Shown only now: give it to whoever should sample the model (sharedModel(token), shareToken arguments).',
      resolve: (r) => r.token,
    }),
  }),
});

const ExportRef = builder
  .objectRef<{ url: string; expiresAt: Date; sizeBytes: number }>('ModelVersionExport')
  .implement({
    description: 'A zip (stored, uncompressed) with model.json, weights.bin, config.json, MODEL_CARD.md and grid.png.',
    fields: (t) => ({
      url: t.exposeString('url'),
      expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
      sizeBytes: t.exposeFloat('sizeBytes'),
    }),
  });

builder.mutationFields((t) => ({
  publishModel: t.field({
    type: PublishResultRef,
    authScopes: { authenticated: true },
    description:
      "Publishes the run's checkpoint at `step` (EMA weights) as a new immutable version and moves `latest` to it. Needs member (or editor share) access.",
    args: { input: t.arg({ type: PublishModelInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const { model, version } = await ctx.services.modelPublisher.publish(
        ctx,
        {
          runId: input.runId,
          step: input.step,
          ...(input.modelId != null ? { modelId: String(input.modelId) } : {}),
          ...(input.modelName != null ? { modelName: input.modelName } : {}),
          ...(input.notes != null ? { notes: input.notes } : {}),
          ...(input.description != null ? { description: input.description } : {}),
          ...(input.precision != null ? { precision: input.precision } : {}),
        },
        ctx.log,
      );
      const access = await ctx.services.modelAccess.accessTo(ctx, model);
      return { model: { model, access }, version: { version, access, shareToken: null } };
    },
  }),
  updateModel: t.field({
    type: ModelRef,
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: UpdateModelInput, required: true }) },
    resolve: async (_r, { input }, ctx) =>
      view(
        ctx,
        await ctx.services.models.update(ctx, {
          id: input.id,
          ...(input.description != null ? { description: input.description } : {}),
          ...(input.visibility != null ? { visibility: input.visibility } : {}),
        }),
      ),
  }),
  setAlias: t.field({
    type: ModelRef,
    authScopes: { authenticated: true },
    description:
      'Points an alias (e.g. "best", "prod") at a version; every move is audited in aliasEvents. Member or editor access.',
    args: {
      modelId: t.arg.id({ required: true }),
      name: t.arg.string({ required: true }),
      versionId: t.arg.id({ required: true }),
    },
    resolve: async (_r, args, ctx) => {
      await ctx.services.modelAliases.set(ctx, String(args.modelId), args.name, String(args.versionId));
      return view(ctx, await ctx.services.modelAccess.modelRow(String(args.modelId)));
    },
  }),
  removeAlias: t.boolean({
    authScopes: { authenticated: true },
    description: 'Removes a user-defined alias (audited). `latest` cannot be removed.',
    args: { modelId: t.arg.id({ required: true }), name: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) => ctx.services.modelAliases.remove(ctx, String(args.modelId), args.name),
  }),
  shareModel: t.field({
    type: ShareRef,
    authScopes: { authenticated: true },
    description: 'Shares the model with a team or a user (team admins only); sharing again changes the role.',
    args: { input: t.arg({ type: ShareModelInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const share = await ctx.services.modelShares.share(ctx, input);
      return (await ctx.services.modelShares.shares(share.modelId)).find((s) => s.share.id === share.id)!;
    },
  }),
  unshareModel: t.boolean({
    authScopes: { authenticated: true },
    description: 'Removes a share (team admins only). False when there was none.',
    args: { modelId: t.arg.id({ required: true }), teamId: t.arg.id(), userId: t.arg.id() },
    resolve: (_r, args, ctx) => ctx.services.modelShares.unshare(ctx, args),
  }),
  createShareLink: t.field({
    type: CreatedShareLinkRef,
    authScopes: { authenticated: true },
    description: 'An anonymous read + sample link to this model (team admins only). The token is returned once.',
    args: {
      modelId: t.arg.id({ required: true }),
      expiresInHours: t.arg.int({ required: true, description: '1 to 8760 (one year).' }),
    },
    resolve: (_r, args, ctx) =>
      ctx.services.modelShares.createLink(ctx, { modelId: args.modelId, expiresInHours: args.expiresInHours }),
  }),
  revokeShareLink: t.field({
    type: ShareLinkRef,
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, args, ctx) => ctx.services.modelShares.revokeLink(ctx, String(args.id)),
  }),
  deleteModelVersion: t.int({
    authScopes: { authenticated: true },
    description:
      'Deletes a version and all its objects (team admins only); returns how many objects were deleted. `latest` moves to the newest remaining ' +
      'version; a user-defined alias pointing at it refuses the delete (CONFLICT): move or remove the alias first.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_r, args, ctx) => (await ctx.services.models.deleteVersion(ctx, String(args.id))).deletedObjects,
  }),
  deleteModel: t.int({
    authScopes: { authenticated: true },
    description:
      'Deletes the model with every version, alias, share and link, and all its objects (team admins only). Returns the number of objects deleted.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_r, args, ctx) => (await ctx.services.models.deleteModel(ctx, String(args.id))).deletedObjects,
  }),
  exportModelVersion: t.field({
    type: ExportRef,
    description:
      "A short-lived URL of a zip with the version's weights, config and card. Read access (a share link works).",
    args: { id: t.arg.id({ required: true }), shareToken: t.arg.string() },
    resolve: (_r, args, ctx) => ctx.services.modelFiles.export(ctx, String(args.id), args.shareToken),
  }),
}));
