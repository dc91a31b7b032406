/**
 * How the run page shows a trainer log line: what a trainer writes to stderr is an error, unless the line says
 * itself that it is only a warning. Native libraries write their notices there too: Dawn (WebGPU) prints
 * `Warning: maxDynamic… artificially reduced …` when it probes a software Vulkan adapter, Node prints
 * `(node:123) Warning: …`. Those are shown as warnings, not in the colour of a failure.
 */
export type LogLineKind = 'out' | 'warning' | 'error';

const WARNING = /^(\(node:\d+\) )?(\[[^\]]*\] )?Warning: /;

export function logLineKind(stream: string, line: string): LogLineKind {
  if (stream !== 'STDERR') return 'out';
  return WARNING.test(line) ? 'warning' : 'error';
}
