// The route table's matching: paths are written as templates (`/session/{id}`, the OpenAPI
// form), compiled once; a path that exists under other methods is a 405 with `Allow`.

/** A route as the API documents it. */
export interface RouteSpec {
  method: string;
  /** A template: `{name}` stands for one path segment. */
  path: string;
  /** Needs no API key (health, readiness, the playground, the API description). */
  open?: boolean;
}

export type RouteMatch<R extends RouteSpec> =
  | { route: R; params: Record<string, string> }
  | { allow: string[] }
  | null;

/** The regular expression of a path template (segments literal, `{name}` one segment). */
export function templatePattern(path: string): RegExp {
  const source = path
    .split(/(\{[A-Za-z_][A-Za-z0-9_]*\})/)
    .map((part) => (part.startsWith("{") ? `(?<${part.slice(1, -1)}>[^/]+)` : part.replace(/[.*+?^$()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`);
}

/** Matches requests against routes: the route and its path parameters, the methods of the path (405), or nothing (404). */
export function createRouter<R extends RouteSpec>(routes: readonly R[]): (method: string, pathname: string) => RouteMatch<R> {
  const compiled = routes.map((route) => ({ route, pattern: templatePattern(route.path) }));
  return (method, pathname) => {
    const onPath = compiled.filter(({ pattern }) => pattern.test(pathname));
    if (onPath.length === 0) return null;
    const hit = onPath.find(({ route }) => route.method === method);
    if (!hit) return { allow: [...new Set(onPath.map(({ route }) => route.method))] };
    return { route: hit.route, params: { ...hit.pattern.exec(pathname)!.groups } };
  };
}
