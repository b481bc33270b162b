/* The org emulator's public face for tests, the CLI and the benchmark. */
export { startEmulator, loadFixture, DEFAULT_FIXTURE, type Emulator, type EmulatorOptions } from './server.js';
export type { FaultSpec } from './faults.js';
export type { Fixture, EmulatorSettings, SRecord, MetadataComponent } from './store.js';
export type { LogEntry } from './http.js';
