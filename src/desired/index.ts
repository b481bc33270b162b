/* The desired state: flags or a spec file → a validated IntegrationSpec (build.ts, validate.ts, file.ts), and the DesiredState the planner reads (state.ts). */
export { buildSpec, draftSpec, withOwner, type BuiltSpec, type OwnerPending, type SpecEnv, type SpecInput } from './build.js';
export { sandboxNameFromSubdomain } from './defaults.js';
export { parseSpecFile, readSpecFile, specFileSchema, specFileSchemaText, specToFile, type LoadedSpecFile, type SpecFile } from './file.js';
export type { SpecProblem, SpecWarning } from './messages.js';
export { desiredState } from './state.js';
export { validateAgainstOrg, validateSpec, type OrgCatalogue } from './validate.js';
export type * from './types.js';
