/** The evaluation task module a sandbox child imports: the TypeScript file from the sources, the compiled one beside the CLI in the package. */
export const evaluationTasksUrl = new URL(
  import.meta.url.endsWith('.ts') ? './evaluationTasks.ts' : './evaluationTasks.js',
  import.meta.url,
);
