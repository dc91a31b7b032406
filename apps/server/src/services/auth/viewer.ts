import { unauthenticated } from '../errors.ts';
import type { RequestMeta, Viewer } from '../types.ts';

/** The signed-in caller, or UNAUTHENTICATED: the first line of every operation that needs a user. */
export function requireViewer(meta: RequestMeta): Viewer {
  if (!meta.viewer) throw unauthenticated();
  return meta.viewer;
}
