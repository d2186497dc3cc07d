// Types for assets imported with `with { type: "text" }` (see src/assets.ts).
declare module "*.c" {
  const text: string;
  export default text;
}
declare module "*.Dockerfile" {
  const text: string;
  export default text;
}
declare module "*.sh" {
  const text: string;
  export default text;
}
declare module "*.css" {
  const text: string;
  export default text;
}
/** A script bundled by build.ts (embedded/generated/). */
declare module "*.bundle" {
  const text: string;
  export default text;
}
declare module "*.py" {
  const text: string;
  export default text;
}
declare module "*.txt" {
  const text: string;
  export default text;
}
