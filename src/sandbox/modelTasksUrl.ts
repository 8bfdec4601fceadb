// The task module sandbox children import for model work: from the sources the TypeScript file, in the package the
// compiled modelTasks.js that scripts/buildPackage.ts writes next to the code that starts the children.
export const modelTasksUrl = new URL(import.meta.url.endsWith('.ts') ? './modelTasks.ts' : './modelTasks.js', import.meta.url);
