export const CONSOLE_DIR: string;
export function buildConsole(): Promise<string>;
export function watchConsole(): Promise<{ dispose(): Promise<void> }>;
