// @types/better-sqlite3 is not a dependency; this declares the subset of better-sqlite3 12.x the collector
// uses (https://github.com/WiseLibs/better-sqlite3/blob/master/docs/api.md). Replace it with the
// DefinitelyTyped package if that is ever added.
declare module 'better-sqlite3' {
  namespace Database {
    interface RunResult {
      changes: number;
      lastInsertRowid: number | bigint;
    }

    interface Statement<BindParameters extends unknown[] = unknown[], Result = unknown> {
      run(...params: BindParameters): RunResult;
      get(...params: BindParameters): Result | undefined;
      all(...params: BindParameters): Result[];
      iterate(...params: BindParameters): IterableIterator<Result>;
      raw(toggle?: boolean): this;
      pluck(toggle?: boolean): this;
    }

    interface Transaction<F extends (...args: never[]) => unknown> {
      (...args: Parameters<F>): ReturnType<F>;
      immediate(...args: Parameters<F>): ReturnType<F>;
    }

    interface Options {
      readonly?: boolean;
      fileMustExist?: boolean;
      timeout?: number;
    }

    interface Database {
      readonly open: boolean;
      readonly name: string;
      prepare<BindParameters extends unknown[] = unknown[], Result = unknown>(sql: string): Statement<BindParameters, Result>;
      exec(sql: string): this;
      pragma(sql: string, options?: { simple?: boolean }): unknown;
      transaction<F extends (...args: never[]) => unknown>(fn: F): Transaction<F>;
      close(): this;
    }
  }

  interface DatabaseConstructor {
    new (filename: string, options?: Database.Options): Database.Database;
    (filename: string, options?: Database.Options): Database.Database;
  }

  const Database: DatabaseConstructor;
  export = Database;
}
