import type { Metadata } from 'next';
import Link from 'next/link';
import { AliasPanel } from '../../../../../../components/models/AliasPanel';
import { DeleteModelButton } from '../../../../../../components/models/DeleteModelButton';
import { EvaluateForm } from '../../../../../../components/models/EvaluateForm';
import { EvaluationActivity } from '../../../../../../components/models/EvaluationActivity';
import { VISIBILITY_LABEL } from '../../../../../../components/models/format';
import { ModelDescription } from '../../../../../../components/models/ModelDescription';
import { EvaluationGroups } from '../../../../../../components/models/MetricsPanel';
import { ShareDialog } from '../../../../../../components/models/ShareDialog';
import { shownVersion } from '../../../../../../components/models/shown-version';
import {
  ModelCardSection,
  NoVersions,
  PlaygroundSection,
  SampleGridSection,
  TrainingMetricsSection,
  VersionsSection,
} from '../../../../../../components/models/VersionSections';
import styles from '../../../../../../components/models/models.module.css';
import {
  ComparableEvaluationsQuery,
  EvaluationActivityQuery,
  ModelQuery,
  ModelSharingQuery,
  readModelVersions,
} from '../../../../../../graphql/operations/models';
import { MySampleJobsQuery, readSampleJob } from '../../../../../../graphql/operations/sampling';
import { formatDateTime } from '../../../../../../lib/format';
import { canContribute } from '../../../../../../graphql/roles';
import { loadMe, serverRequest, unwrap, unwrapFound } from '../../../../../../lib/server-graphql';
import { loadTeam } from '../../../../../../lib/team';
import { loadDatasets } from '../../../../../../lib/team-content';

type Props = { params: Promise<{ slug: string; modelId: string }>; searchParams: Promise<{ v?: string | string[] }> };

export const metadata: Metadata = { title: 'Model' };

/** Failed and cancelled evaluations stay listed for a week (queued and running ones until they end). */
const RECENT_MS = 7 * 24 * 3600 * 1000;
const isActive = (status: string) => status === 'QUEUED' || status === 'RUNNING';
const isRecent = (finishedAt: string | null | undefined) =>
  finishedAt != null && Date.now() - new Date(finishedAt).getTime() < RECENT_MS;

export default async function ModelPage({ params, searchParams }: Props) {
  const [{ slug, modelId }, query] = await Promise.all([params, searchParams]);
  const load = await loadTeam(slug);
  if (load.kind !== 'ok') return null; // the layout shows why
  const result = await serverRequest(ModelQuery, { id: modelId });
  const model = unwrapFound(result, 'load the model').model;
  const versions = readModelVersions(model.versions);
  const can = new Set(model.viewerPermissions);
  const ownTeam = model.teamId === load.team.id;

  const version = shownVersion(versions, model.aliases, query.v);
  const [sharing, evaluations, activity, history, datasets, me] = await Promise.all([
    can.has('SHARE')
      ? serverRequest(ModelSharingQuery, { id: modelId }).then((r) => unwrap(r, 'load the model’s shares').model)
      : null,
    serverRequest(ComparableEvaluationsQuery, { modelId }).then((r) => (r.ok ? r.data.comparableEvaluations : [])),
    serverRequest(EvaluationActivityQuery, { modelId }).then((r) => (r.ok ? r.data.model.evaluations : [])),
    version
      ? serverRequest(MySampleJobsQuery, { versionId: version.id }).then((r) =>
          r.ok ? r.data.modelVersion.mySampleJobs.map(readSampleJob) : [],
        )
      : [],
    ownTeam ? loadDatasets(load.team.id) : [],
    loadMe(),
  ]);

  const base = `/t/${slug}/models/${model.id}`;
  const versionNumbers = new Map(versions.map((v) => [v.id, v.number]));
  const evaluationDatasets = version
    ? datasets.flatMap((d) => {
        const ready = d.versions.find((dv) => dv.status === 'READY');
        return ready && d.resolution === version.resolution && d.channels === version.channels
          ? [{ versionId: ready.id, label: `${d.name} · v${ready.number} · ${ready.acceptedCount} images` }]
          : [];
      })
    : [];

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <p className="muted">
            <Link href={`/t/${slug}/models`}>Models</Link> /
          </p>
          <h1>{model.name}</h1>
          <p className="muted">
            {VISIBILITY_LABEL[model.visibility]} · {versions.length} {versions.length === 1 ? 'version' : 'versions'} ·
            updated {formatDateTime(model.updatedAt)}
            {ownTeam ? '' : ' · shared with you'}
          </p>
          <ModelDescription modelId={model.id} description={model.description} canEdit={can.has('PUBLISH')} />
        </div>
        <div className={styles.headerActions}>
          {version && canContribute(load.team.viewerRole) ? (
            <Link href={`/t/${slug}/runs/new?fromModelVersion=${version.id}`} className="btn btn-secondary btn-sm">
              Fine-tune v{version.number}
            </Link>
          ) : null}
          {sharing ? (
            <ShareDialog
              modelId={model.id}
              modelName={model.name}
              sharing={sharing}
              otherTeams={(me?.teams ?? []).filter((t) => t.id !== model.teamId)}
            />
          ) : null}
          {can.has('DELETE') ? (
            <DeleteModelButton
              modelId={model.id}
              modelName={model.name}
              versionCount={versions.length}
              galleryHref={`/t/${slug}/models`}
            />
          ) : null}
        </div>
      </div>

      {!version ? (
        <NoVersions>Every version of this model was deleted. Publish a run’s checkpoint to it to add one.</NoVersions>
      ) : (
        <div className={styles.layout}>
          <div className={styles.column}>
            <PlaygroundSection version={version} history={history} />

            <VersionsSection
              versions={versions}
              selectedId={version.id}
              versionHref={(n) => `${base}?v=${n}`}
              runHref={ownTeam ? (runId) => `/t/${slug}/runs/${runId}` : undefined}
              canDelete={can.has('DELETE')}
            />

            <section className="card" aria-labelledby="evaluations-heading">
              <div className="card-header">
                <div>
                  <h2 id="evaluations-heading">Evaluations</h2>
                  <p className="muted">
                    KID, FID and IS against a dataset, grouped by feature extractor and sample count.
                  </p>
                </div>
              </div>
              <EvaluationGroups groups={evaluations} versionNumbers={versionNumbers} />
              <EvaluationActivity
                evaluations={activity.filter((e) => isActive(e.status) || isRecent(e.finishedAt))}
                versionNumbers={versionNumbers}
              />
              {can.has('SAMPLE') && ownTeam ? (
                <EvaluateForm versionId={version.id} datasets={evaluationDatasets} />
              ) : null}
            </section>

            <ModelCardSection version={version} />
          </div>

          <div className={styles.column}>
            <SampleGridSection modelName={model.name} version={version} details />

            <section className="card" aria-labelledby="aliases-heading">
              <div className="card-header">
                <h2 id="aliases-heading">Aliases</h2>
              </div>
              <AliasPanel
                modelId={model.id}
                aliases={model.aliases}
                versions={versions.map((v) => ({ id: v.id, number: v.number }))}
                canMove={can.has('ALIAS')}
              />
              {model.aliasEvents.length > 0 ? (
                <div className="card-body">
                  <h3 style={{ fontSize: '0.9rem', marginBottom: 6 }}>History</h3>
                  <ul className={styles.audit} aria-label="Alias history">
                    {model.aliasEvents.map((e, i) => (
                      <li key={i}>
                        <span className="mono">{e.aliasName}</span>{' '}
                        {e.fromNumber === null || e.fromNumber === undefined ? 'set to' : `v${e.fromNumber} →`}{' '}
                        {e.toNumber === null || e.toNumber === undefined ? 'removed' : `v${e.toNumber}`} ·{' '}
                        {formatDateTime(e.at)}
                        {e.reason ? ` · ${e.reason}` : ''}
                      </li>
                    ))}
                  </ul>
                </div>
              ) : null}
            </section>

            <TrainingMetricsSection version={version} />
          </div>
        </div>
      )}
    </div>
  );
}
