import Link from 'next/link';
import type { TeamModelsQuery } from '../../graphql/operations/models';
import type { ResultOf } from '../../graphql/tada';
import { formatDate } from '../../lib/format';
import { CubeIcon } from '../Icons';
import { VISIBILITY_LABEL } from './format';
import { markdownSummary } from './Markdown';
import styles from './models.module.css';

type ModelSummary = ResultOf<typeof TeamModelsQuery>['models'][number];

/** Cards with each model's sample grid (of its `latest` version), version, aliases and visibility. */
export function ModelGallery({
  models,
  teamId,
  teamSlug,
}: {
  models: readonly ModelSummary[];
  teamId: string;
  teamSlug: string;
}) {
  return (
    <ul className={styles.gallery} aria-label="Models" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
      {models.map((model) => {
        const latest = model.latest;
        const href = `/t/${teamSlug}/models/${model.id}`;
        return (
          <li key={model.id} className={`card ${styles.galleryCard}`} data-testid={`model-${model.name}`}>
            {latest?.sampleGridUrl ? (
              <img className={styles.galleryImage} src={latest.sampleGridUrl} alt={`Samples from ${model.name}`} />
            ) : (
              <div className={styles.galleryImage} aria-hidden="true">
                <CubeIcon size={28} />
              </div>
            )}
            <div className={styles.galleryBody}>
              <h2>
                <Link href={href}>{model.name}</Link>
              </h2>
              <p className="muted">
                {latest
                  ? `v${latest.number} · ${latest.resolution}×${latest.resolution} · step ${latest.step.toLocaleString('en')}`
                  : 'no versions'}{' '}
                · updated {formatDate(model.updatedAt)}
              </p>
              {model.description ? <p>{markdownSummary(model.description)}</p> : null}
              <div className={styles.badges}>
                <span className="badge">
                  {model.teamId === teamId ? VISIBILITY_LABEL[model.visibility] : 'Shared with you'}
                </span>
                {model.aliases.map((alias) => (
                  <span key={alias.name} className={`badge ${alias.name === 'latest' ? 'badge-accent' : ''}`}>
                    {alias.name}
                  </span>
                ))}
              </div>
            </div>
          </li>
        );
      })}
    </ul>
  );
}
