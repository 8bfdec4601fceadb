/** COLLECTOR_DATABASE_URL when set; only postgres:// (or postgresql://) URLs are accepted. */
export function databaseUrlFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const url = env.COLLECTOR_DATABASE_URL?.trim();
  if (!url) return undefined;
  if (!/^postgres(ql)?:\/\//.test(url)) throw new Error('COLLECTOR_DATABASE_URL must be a postgres:// URL');
  return url;
}
