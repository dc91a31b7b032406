export {
  createHub,
  DEFAULT_HUB_LIMITS,
  GRAPHQL_PATH,
  OBJECTS_PATH,
  type Hub,
  type HubConfig,
  type HubLimits,
} from './hub.ts';
export { loadEnv, EnvError, type Env } from './env.ts';
export { hubConfigFromEnv, loadOrCreateSecret, objectStoreFromEnv, publicUrlFromEnv } from './config.ts';
export { createLogger, type Logger } from './logger.ts';
export { SESSION_COOKIE } from './http/session-cookie.ts';
export { installProcessGuards } from './process-guards.ts';
