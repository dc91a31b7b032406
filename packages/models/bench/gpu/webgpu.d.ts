// The `webgpu` package (Dawn for Node) is not a dependency: run-on-device.sh brings it to the GPU machine.
declare module 'webgpu' {
  export function create(flags: string[]): unknown;
  export const globals: Record<string, unknown>;
}
