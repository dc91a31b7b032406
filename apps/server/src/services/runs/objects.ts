/** Object-store layout of a run's artifacts (keys built from ids only). */
const pad = (step: number) => String(step).padStart(9, '0');
export const runPrefix = (runId: string) => `runs/${runId}`;
export const checkpointPrefix = (runId: string, step: number) => `runs/${runId}/checkpoints/step-${pad(step)}`;
export const sampleGridKey = (runId: string, step: number) => `runs/${runId}/samples/step-${pad(step)}.png`;
