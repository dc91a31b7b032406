import styles from './models.module.css';

// Loading states shaped like the pages they stand in for.

export function GallerySkeleton() {
  return (
    <div className="page" aria-busy="true" aria-label="Loading models">
      <div className="skeleton" style={{ height: 32, width: 200 }} />
      <div className="skeleton" style={{ height: 16, width: 360, maxWidth: '100%' }} />
      <div className={styles.gallery}>
        {[0, 1, 2, 3].map((i) => (
          <div key={i} className={`skeleton ${styles.skeletonCard}`} />
        ))}
      </div>
    </div>
  );
}

export function ModelSkeleton() {
  return (
    <div className="page" aria-busy="true" aria-label="Loading the model">
      <div className="skeleton" style={{ height: 32, width: 260 }} />
      <div className="skeleton" style={{ height: 16, width: 380, maxWidth: '100%' }} />
      <div className={styles.layout}>
        <div className={styles.column}>
          <div className="skeleton" style={{ height: 260 }} />
          <div className="skeleton" style={{ height: 200 }} />
        </div>
        <div className={styles.column}>
          <div className="skeleton" style={{ height: 320 }} />
          <div className="skeleton" style={{ height: 160 }} />
        </div>
      </div>
    </div>
  );
}
