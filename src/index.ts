/*
 * The plugin's library entry point. Commands live in src/commands; this module re-exports the result types
 * that scripts and other plugins may rely on as they are added.
 */
export default {};
