/**
 * Runs `fn` with the environment variables in `vars` set (`undefined` deletes one), then puts
 * back what was there, also when `fn` throws or its promise rejects: adapters read their keys
 * and projects from the environment at creation, and one test's values must not leak into the next.
 */
export function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  apply(vars);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    apply(saved);
    throw e;
  }
  if (result instanceof Promise) return result.finally(() => apply(saved)) as T;
  apply(saved);
  return result;
}

function apply(vars: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(vars)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}
