/** The package version (package.json's; a test keeps them equal). Part of the tuner's cache key. */
export const VERSION = '0.2.0';
