// Loading the optional backend packages (tfjs-node, webgpu): absent is the usual case and gets a short message.

// A variable specifier keeps bundlers (the web dashboard) from trying to resolve the optional packages.
export const dynamicImport = (specifier: string): Promise<unknown> =>
  import(/* @vite-ignore */ /* webpackIgnore: true */ specifier);

/** Whether an import failed because `pkg` itself is not installed (not because something inside it failed). */
export function isMissingPackage(err: unknown, pkg: string): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    err instanceof Error &&
    err.message.includes(`'${pkg}'`)
  );
}
