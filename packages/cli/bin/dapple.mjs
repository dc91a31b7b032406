#!/usr/bin/env node
// The CLI is TypeScript source like the rest of the workspace: load it through tsx's ESM hooks.
import { register } from 'tsx/esm/api';

register();
await import('../src/bin.ts');
