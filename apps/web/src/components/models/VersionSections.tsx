import type { readModelVersions } from '../../graphql/operations/models';
import { withoutSection } from '../../lib/markdown-sections';
import { gridCaption } from './grid-caption';
import { Markdown } from './Markdown';
import { TrainingMetrics } from './MetricsPanel';
import { SamplingPlayground } from './SamplingPlayground';
import type { SampleJob } from './SampleJobView';
import { VersionList } from './VersionList';
import styles from './models.module.css';

type Version = ReturnType<typeof readModelVersions>[number];

// The parts of a version that the model page and the public share page show alike.

/** The card's metrics table, which the page shows as its own section (TrainingMetricsSection) beside it. */
const METRICS_HEADING = '## Metrics at publish time';

/** The version's model card, rendered from markdown (raw HTML stays text). */

export function ModelCardSection({ version }: { version: Version }) {
  return (
    <section className="card" aria-labelledby="card-heading">
      <div className="card-header">
        <h2 id="card-heading">Model card · version {version.number}</h2>
      </div>
      <Markdown source={withoutSection(version.modelCard, METRICS_HEADING)} className={`card-body ${styles.card}`} />
    </section>
  );
}

/** The run's sample grid nearest the version's step, and what the network is; `details` adds team-only facts. */
export function SampleGridSection({
  modelName,
  version,
  details = false,
}: {
  modelName: string;
  version: Version;
  details?: boolean;
}) {
  const caption = gridCaption(version.configJson, version.labelNames);
  return (
    <section className="card" aria-labelledby="grid-heading">
      <div className="card-header">
        <h2 id="grid-heading">Samples at step {(version.sampleGridStep ?? version.step).toLocaleString('en')}</h2>
      </div>
      <div className="card-body">
        {version.sampleGridUrl ? (
          <>
            <img
              className={styles.hero}
              src={version.sampleGridUrl}
              alt={`Sample grid of ${modelName} version ${version.number}`}
            />
            {caption ? (
              <p className="muted" data-testid="grid-caption" style={{ marginTop: 8 }}>
                {caption}
              </p>
            ) : null}
          </>
        ) : (
          <p className="muted">The run had no sample grid near this step.</p>
        )}
        <p className="muted" style={{ marginTop: 8 }}>
          {version.resolution}×{version.resolution} · {version.channels === 1 ? 'grayscale' : 'RGB'}
          {details && version.predictionType ? ` · predicts ${version.predictionType}` : ''}
          {version.labelNames.length > 0 ? ` · ${version.labelNames.length} classes` : ' · unconditional'}
          {details && version.datasetVersionHash ? (
            <>
              {' '}
              · data <span className="mono">{version.datasetVersionHash.slice(0, 12)}</span>
            </>
          ) : null}
        </p>
      </div>
    </section>
  );
}

/** The run's training metrics around the version's step. */
export function TrainingMetricsSection({ version }: { version: Version }) {
  return (
    <section className="card" aria-labelledby="metrics-heading">
      <div className="card-header">
        <h2 id="metrics-heading">Training metrics · v{version.number}</h2>
      </div>
      <TrainingMetrics step={version.step} metrics={version.metrics} />
    </section>
  );
}

/** Every version of the model, the one shown marked (see VersionList for what each row links to). */
export function VersionsSection(props: React.ComponentProps<typeof VersionList>) {
  return (
    <section className="card" aria-labelledby="versions-heading">
      <div className="card-header">
        <h2 id="versions-heading">Versions</h2>
      </div>
      <VersionList {...props} />
    </section>
  );
}

/**
 * The playground on the version shown; a share link samples with its token. A new version starts it afresh.
 * `history`: the signed-in caller's earlier server jobs on it.
 */
export function PlaygroundSection({
  version,
  shareToken,
  history,
}: {
  version: Version;
  shareToken?: string;
  history?: readonly SampleJob[];
}) {
  return (
    <SamplingPlayground
      key={version.id}
      versionId={version.id}
      versionNumber={version.number}
      labelNames={version.labelNames}
      architecture={version.architecture}
      shareToken={shareToken}
      {...(history ? { history } : {})}
    />
  );
}

/** Where the version sections would be when a model has none; `children` says why and what to do. */
export function NoVersions({ children }: { children: React.ReactNode }) {
  return (
    <div className="card empty">
      <h3>No versions</h3>
      <p>{children}</p>
    </div>
  );
}
