// Public surface of @dapple/diffusion: training half (schedule, backend, nn, unet, losses, optim, train)
// and sampling half (rng, samplers, checkpoint, metrics).
export * from './schedule.ts';
export * from './backend.ts';
