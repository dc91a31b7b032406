import styles from './runs.module.css';

/** A table of the run pages (checkpoints, compared evaluations) that scrolls sideways on a narrow screen. */
export function RunTable({ columns, children }: { columns: readonly React.ReactNode[]; children: React.ReactNode }) {
  return (
    <div className={styles.tableWrap}>
      <table className={styles.table}>
        <thead>
          <tr>
            {columns.map((column, i) => (
              <th key={i} scope="col">
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
