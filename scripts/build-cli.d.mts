/** Bundles the CLI into dist/cli/winky.mjs; answers the bundle's path. */
export declare const OUTFILE: string;
export declare function buildCli(): Promise<string>;
