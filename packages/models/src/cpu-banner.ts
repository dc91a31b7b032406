/**
 * TF.js' cpu backend prints this advice ("install our node backend") on its first tensor write in Node.js.
 * Dapple has already picked the fastest backend it can load (selectBackend), so wherever the advice shows up (a
 * trainer's log, test output) it is noise to drop. No imports: the root vitest config reads it too.
 */
export const CPU_BANNER = /looks like you are running TensorFlow\.js in Node\.js/;
