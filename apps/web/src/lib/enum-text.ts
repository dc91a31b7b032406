/**
 * A GraphQL enum value as the run config writes it, for display (`TINY` → `tiny`, `DPMPP_2M_SDE` →
 * `dpmpp-2m-sde`): the words users see in the docs, the CLI's `--set` and the full config JSON.
 */
export function enumText(value: string | null): string {
  // null: a field the model family does not have (a Glow run has no noise schedule).
  if (value === null) return '—';
  return value.toLowerCase().replace(/_/g, '-');
}
