// Vite import suffixes the demo uses (https://vite.dev/guide/features#import-with-query-suffixes).
declare module '*?worker&url' {
  const url: string;
  export default url;
}
