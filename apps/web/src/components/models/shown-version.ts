/**
 * The version a model page shows: the one numbered in `?v=`, else the one the `latest` alias points at, else the
 * newest. The model page and the share page read the same query parameter.
 */
export function shownVersion<TVersion extends { id: string; number: number }>(
  versions: readonly TVersion[],
  aliases: readonly { name: string; versionId: string }[],
  v: string | string[] | undefined,
): TVersion | undefined {
  const wanted = Number(Array.isArray(v) ? v[0] : v);
  const latestId = aliases.find((a) => a.name === 'latest')?.versionId;
  return versions.find((x) => x.number === wanted) ?? versions.find((x) => x.id === latestId) ?? versions[0];
}
